-- seed.sql: the data of one bench database, made once (tests/bench/bench.sh).
--   psql -v version=N -v businesses=B -v keys_per_business=K -v sessions=S
--        -v sample=T -f seed.sql
-- A hub on plan 'bench' (limits no bench reaches) with B businesses of five
-- services each (four active, as the demo), K business keys and one
-- publishable key per business, S live sessions spread over the publishable
-- keys, and a rate_windows row for every business key and session. Tokens
-- are made by calendence.new_token() and stored as their hash, as
-- issue_key() does; the bench keeps T of each kind, drawn at random, in
-- bench.tokens (n = 1..T, for pgbench). Then a hub on plan 'bench_1rpm'
-- (one request a minute) with one key, for the 429 path, and 1,000 tokens
-- of the right form that no table holds, for the 401 path.
\set ON_ERROR_STOP on

BEGIN;
CREATE SCHEMA bench;
CREATE TABLE bench.seeded (
	version			integer NOT NULL,
	businesses		integer NOT NULL,
	api_keys		bigint NOT NULL,
	sessions		bigint NOT NULL,
	rate_rows		bigint NOT NULL,
	at			timestamptz NOT NULL DEFAULT now()
);
-- kind: biz, ses, pub, limited, unknown, badsum
CREATE TABLE bench.tokens (
	kind		text NOT NULL,
	n		integer NOT NULL,
	token		text NOT NULL,
	token_hash	bytea NOT NULL,
	business_id	uuid,
	PRIMARY KEY (kind, n)
);

INSERT INTO calendence.plans VALUES
	('bench', true, 1000000000, 1000000000, 1000000000),
	('bench_1rpm', true, 1, 1000000000, 1000000000)
ON CONFLICT (code) DO NOTHING;

SELECT calendence.create_hub('Bench hub', 'bench') AS hub \gset
INSERT INTO calendence.businesses (hub_id, name, slug, timezone)
SELECT :'hub', 'Bench business ' || i, 'bench-' || i, 'America/Chicago'
  FROM generate_series(1, :businesses) i;

-- the demo's five services (sql/demo.sql), in every business
INSERT INTO calendence.services (business_id, name, description, duration_min,
    duration_max, rate, rate_type, deposit_type, deposit_amount, buffer_before_min,
    buffer_after_min, is_mobile, is_active, show_staff_picker, custom_fields)
SELECT b.id, s.* FROM calendence.businesses b CROSS JOIN (VALUES
	('Express Wash', 'Quick exterior wash and dry.', 30, 30, 3500, 'flat', 'none',
	    0, 0, 0, false, true, false, '[]'::jsonb),
	('Interior Detail', 'Vacuum, shampoo and wipe-down of every surface.', 90, 120,
	    12000, 'flat', 'flat', 2000, 0, 15, false, true, false,
	    '[{"id":"vehicle","label":"Vehicle make and model","type":"text","required":true,"options":[]}]'),
	('Full Detail', 'Interior and exterior, clay bar and wax.', 180, 240, 4500,
	    'hourly', 'percentage', 2500, 15, 15, false, true, true, '[]'),
	('Mobile Wash', 'We come to you.', 45, 60, 5500, 'flat', 'none', 0, 0, 0, true,
	    true, false, '[]'),
	('Winter Special', 'Salt and grime removal for the cold months.', 60, 60, 6500,
	    'flat', 'none', 0, 0, 0, false, false, false, '[]')
) AS s WHERE b.hub_id = :'hub';

CREATE TEMP TABLE k ON COMMIT DROP AS
SELECT calendence.new_token('business') AS token, b.id AS business_id, NULL::uuid AS id
  FROM calendence.businesses b CROSS JOIN generate_series(1, :keys_per_business)
 WHERE b.hub_id = :'hub';
UPDATE k SET id = gen_random_uuid();
INSERT INTO calendence.api_keys (id, kind, business_id, token_hash, display, label)
SELECT id, 'business', business_id, calendence.token_hash(token),
       calendence.token_display(token), 'bench'
  FROM k;

CREATE TEMP TABLE p ON COMMIT DROP AS
SELECT row_number() OVER () AS n, calendence.new_token('publishable') AS token,
       b.id AS business_id, gen_random_uuid() AS id
  FROM calendence.businesses b WHERE b.hub_id = :'hub';
INSERT INTO calendence.api_keys (id, kind, business_id, token_hash, display, label)
SELECT id, 'publishable', business_id, calendence.token_hash(token),
       calendence.token_display(token), 'bench'
  FROM p;

CREATE TEMP TABLE s ON COMMIT DROP AS
SELECT calendence.new_token('session') AS token, p.business_id, p.id AS pub,
       gen_random_uuid() AS id
  FROM generate_series(1, :sessions) i
  JOIN p ON p.n = (i - 1) % (SELECT count(*) FROM p) + 1;
INSERT INTO calendence.sessions (id, token_hash, business_id, publishable_key_id,
    root_session_id, client_ip, created_at, expires_at)
SELECT id, calendence.token_hash(token), business_id, pub, id, '127.0.0.1', now(),
       now() + interval '10 years'
  FROM s;

-- a window row for every key and session, as traffic would leave them
INSERT INTO calendence.rate_windows
SELECT subject, e - e % 60, 1, e - e % 3600, 1
  FROM (SELECT 'k:' || id AS subject FROM k UNION ALL SELECT 's:' || id FROM s) x
 CROSS JOIN (SELECT floor(extract(epoch FROM now()))::bigint AS e) t;

INSERT INTO bench.tokens
SELECT 'biz', row_number() OVER (), token, calendence.token_hash(token), business_id
  FROM (SELECT * FROM k ORDER BY random() LIMIT :sample) x;
INSERT INTO bench.tokens
SELECT 'ses', row_number() OVER (), token, calendence.token_hash(token), business_id
  FROM (SELECT * FROM s ORDER BY random() LIMIT :sample) x;
INSERT INTO bench.tokens
SELECT 'pub', row_number() OVER (), token, calendence.token_hash(token), business_id
  FROM (SELECT * FROM p ORDER BY random() LIMIT :sample) x;

-- the 429 path: one key of a plan that admits one request a minute
SELECT calendence.create_hub('Bench limited hub', 'bench_1rpm') AS lhub \gset
SELECT calendence.create_business(:'lhub', 'Bench limited business', 'America/Chicago',
    'bench-limited') AS lbiz \gset
SELECT calendence.issue_key('business', :'lbiz', 'bench') AS ltok \gset
INSERT INTO bench.tokens
VALUES ('limited', 1, :'ltok', calendence.token_hash(:'ltok'), :'lbiz');

-- the 401 paths: well formed but unknown; a checksum character changed
INSERT INTO bench.tokens
SELECT 'unknown', i, t, calendence.token_hash(t), NULL
  FROM (SELECT i, calendence.new_token('business') AS t
	  FROM generate_series(1, 1000) i) x;
INSERT INTO bench.tokens
SELECT 'badsum', n, x, calendence.token_hash(x), NULL
  FROM (SELECT n, left(token, 45) || CASE WHEN right(token, 1) = '0' THEN '1' ELSE '0' END
	  FROM bench.tokens WHERE kind = 'biz' AND n <= 1000) b(n, x);

INSERT INTO bench.seeded (version, businesses, api_keys, sessions, rate_rows)
SELECT :version, :businesses, (SELECT count(*) FROM calendence.api_keys),
       (SELECT count(*) FROM calendence.sessions),
       (SELECT count(*) FROM calendence.rate_windows);
COMMIT;

VACUUM ANALYZE;
CHECKPOINT;
