# table.jq: the readable table of run/bench.json (jq -r).
def f($n; $d): if $n == null then "-" else
	(($n * pow(10; $d) | round) / pow(10; $d) | tostring) end;
def pad($w): tostring | if length >= $w then . else . + (" " * ($w - length)) end;
def lpad($w): tostring | if length >= $w then . else (" " * ($w - length)) + . end;
def pct($st): ([$st[]] | add) as $n |
	[$st | to_entries[] | .key as $k | .value as $v | ($v * 100 / $n) as $p |
	    "\($k) " + (if $p >= 1 or $p == 0 then "\($p | round)%"
		else "\($p * 100 | round / 100)% (\($v))" end)] | join(", ");
def order: if . == "1" then 0 elif startswith("2") then 1 else 2 end;
def cpu: if .webhooks then .webhooks.cpu_us_per_event |
	"snd \(f(.sender; 0)), pg \(f(.postgres; 0)), rcv \(f(.receiver; 0))/event" else
	.cpu_us_per_request |
	if .workers != null then [.workers, .lighttpd, .postgres, .wrk, .other] | map(f(.; 0)) | join("/")
	else "pgbench \(f(.pgbench; 0)), all \(f(.machine; 0))" end end;
"Calendence bench, \(.started): \(.machine.cores) cores (\(.machine.cpu)), load \(.machine.load_before)",
"commit \(.software.commit) + \(.software.modified_tracked_files) modified files; \(.software.wrk); \(.software.lighttpd); PostgreSQL \(.software.postgresql.server_version), shared_buffers \(.software.postgresql.shared_buffers) x 8 kB, fsync \(.software.postgresql.fsync)",
"wrk -t\(.settings.wrk_threads) -c\(.settings.wrk_connections) -d\(.settings.seconds)s after \(.settings.warmup_seconds) s of warm-up; \(.settings.workers) workers; auth_fail_limit \(.settings.auth_fail_limit); log_level \(.settings.log_level)",
"",
("case" | pad(4)) + ("" | pad(40)) + ("req/s" | lpad(8)) + ("p50 ms" | lpad(8)) + ("p99 ms" | lpad(8)) +
	("DB RT" | lpad(7)) + "  " + ("CPU us/req: wk/lt/pg/wrk/other" | pad(31)) + "statuses",
(.cases | to_entries | sort_by(.value.id | order)[] | .value |
	(.id | pad(4)) + (.label | pad(40)) + (f(.rps; 0) | lpad(8)) + (f(.p50_ms; 2) | lpad(8)) +
	(f(.p99_ms; 2) | lpad(8)) + (f(.round_trips; 3) | lpad(7)) + "  " + (cpu | pad(31)) +
	(if (.statuses // {}) != {} then pct(.statuses) else "" end)),
"",
"DB round trips by statement (pg_stat_statements): calls per request served (the workers' log lines; pgbench: transactions), mean ms, blocks read per call",
(.cases | to_entries | sort_by(.value.id | order)[] | .value |
	select((.statements // {}) != {}) | . as $k |
	"  \(.id | pad(4))" + ([.statements | to_entries[] |
	    "\(.key) \(f(.value / ($k.served // $k.requests); 4)) x \(f($k.statement_times[.key].mean_ms; 3)) ms, \(f($k.statement_times[.key].blocks_read; 2)) rd"] | join("; "))),
"",
(.cases.w // empty | .webhooks as $w | .post_bookings as $p |
	"webhooks (w): req/s is events/s, p50/p99 the end-to-end latency",
	"  \($w.events) bookings queued, then one sender (webhook_concurrency 8): \(f($w.events_per_s; 0)) events/s to the receiver's 200 (\(f($w.events_per_s_recorded; 0)) recorded in the database; first after \(f($w.first_arrival_ms; 0)) ms; \($w.duplicates) duplicates)",
	"  one booking at a time, POST /bookings answered to the receiver's 200: p50 \(f($w.e2e.p50_ms; 2)) ms, p90 \(f($w.e2e.p90_ms; 2)) ms, p99 \(f($w.e2e.p99_ms; 2)) ms (\($w.e2e.samples) bookings)",
	"  POST /bookings, one client, \($p.cycles) x \($p.per_round) a case, p50 (mean) ms: with the outbox \(f($p.with_outbox.p50_ms; 2)) (\(f($p.with_outbox.mean_ms; 2))), without \(f($p.without_outbox.p50_ms; 2)) (\(f($p.without_outbox.mean_ms; 2))), an event and no subscriber \(f($p.outbox_no_subscriber.p50_ms; 2)) (\(f($p.outbox_no_subscriber.mean_ms; 2)))",
	"  added: +\(f($p.added_pct; 1)) % with the outbox, +\(f($p.added_pct_no_subscriber; 1)) % with an event and no subscriber (medians of the cycles); calendence.book() mean execution \(f($p.with_outbox.book_exec_ms; 3)) / \(f($p.without_outbox.book_exec_ms; 3)) / \(f($p.outbox_no_subscriber.book_exec_ms; 3)) ms (+\(f($p.book_exec_added_pct; 1)) %)",
	"  the trigger's statements, us (medians, in the database): event name \(f($p.outbox_parts_us.event_name; 1)), event INSERT \(f($p.outbox_parts_us.event_insert; 0)) (of which its payload's booking JSON \(f($p.outbox_parts_us.booking_json; 0))), delivery INSERT \(f($p.outbox_parts_us.delivery_insert; 0)), NOTIFY at commit \(f($p.notify_commit_us; 0))",
	""),
(.worker_memory | "worker memory, kB (largest worker): after a-e RSS \(.after_a_to_e.VmRSS_kB) (peak \(.after_a_to_e.VmHWM_kB), anonymous \(.after_a_to_e.RssAnon_kB), PSS \(.after_a_to_e.Pss_kB)); after f RSS \(.after_f.VmRSS_kB) (peak \(.after_f.VmHWM_kB), anonymous \(.after_f.RssAnon_kB), PSS \(.after_f.Pss_kB)); after g (not a target: its answers hold 1,740 slots) RSS \(.after_g.VmRSS_kB // "-")"),
"data: a-e \(.data.small | tojson)",
"      f   \(.data.big | tojson)",
"",
("check" | pad(44)) + ("value" | lpad(9)) + "  " + ("target" | pad(9)) + "result",
(.checks[] | (.name | pad(44)) + (f(.value; 3) | lpad(9)) + "  " + (.target | pad(9)) +
	(if .pass == null then "-" elif .pass then "PASS" else "MISS" end)),
"",
"load average before \(.machine.load_before), after \(.machine.load_after); CPU \"other\" is work outside the bench (other users of the machine, the kernel)"
