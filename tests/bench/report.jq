# report.jq: run/bench.json from the bench's meta.json and its cases, one
# JSON object a line (jq -s): the figures, the ratios and the targets.
(.[0]) as $meta | (.[1:] | map({ (.id): . }) | add // {}) as $c |
# a case left out (BENCH_ONLY) leaves its checks without value or result
def ratio($name; $x; $y; $target):
	{ name: $name, value: (if $x and $y then $x / $y else null end),
	  target: (">= " + ($target | tostring)),
	  pass: (if $x and $y then $x / $y >= $target else null end) };
def rt($id; $max):
	{ name: ("DB round trips per request (" + $id + ")"), value: $c[$id].round_trips,
	  target: ("<= " + (if $max then $max * 100 | round / 100 | tostring else "-" end)),
	  pass: (if $c[$id] then $c[$id].round_trips <= $max else null end) };
($meta.worker_memory | [.after_a_to_e.VmRSS_kB, .after_f.VmRSS_kB] | max) as $rss |
$meta + {
  cases: $c,
  checks: [
	ratio("(a)/(1) business keys / transport"; $c["a"].rps; $c["1"].rps; 0.40),
	ratio("(d)/(1) exhausted key (429) / transport"; $c["d"].rps; $c["1"].rps; 0.85),
	ratio("(e1)/(1) bad checksums / transport"; $c["e1"].rps; $c["1"].rps; 0.85),
	ratio("(e2)/(1) unknown tokens / transport"; $c["e2"].rps; $c["1"].rps; 0.85),
	ratio("(a)/(2) business keys / database"; $c["a"].rps; $c["2"].rps; 1.0),
	ratio("(f)/(a) 1M keys / 10k keys"; $c["f"].rps; $c["a"].rps; 0.90),
	# both make every answer (availability_cache = 0): the making is flat
	ratio("(g2)/(g0) availability made, beside 10,000 businesses"; $c["g2"].rps; $c["g0"].rps; 0.90),
	# issue 15: (g) at ten times the 35 requests/s it had
	{ name: "(g) availability, requests/s", value: $c["g"].rps, target: ">= 350",
	  pass: (if $c["g"] then $c["g"].rps >= 350 else null end) },
	rt("a"; 2.01), rt("b"; 2.01), rt("c"; 2.01), rt("f"; 2.01),
	rt("g"; 2.01), rt("g0"; 2.01), rt("g2"; 2.01), rt("d"; 0.01), rt("e1"; 0.01),
	# once per unknown token and worker, then from memory
	rt("e2"; (if $c["e2"] then $meta.settings.workers * $c["e2"].tokens / $c["e2"].requests + 0.01
		  else null end)),
	{ name: "worker RSS after the run, MiB (largest)",
	  value: (if $rss then $rss / 1024 else null end),
	  target: "<= 8", pass: (if $rss then $rss <= 8192 else null end) },
	{ name: "p99/p50 of (a)", value: (if $c["a"] then $c["a"].p99_ms / $c["a"].p50_ms else null end),
	  target: "<= 5", pass: (if $c["a"] then $c["a"].p99_ms / $c["a"].p50_ms <= 5 else null end) },
	# (w): what the outbox trigger adds to POST /bookings, in % (issue 13)
	($c["w"].post_bookings.added_pct) as $ob |
	{ name: "outbox cost on POST /bookings", value: $ob, target: "< 10 %",
	  pass: (if $ob == null then null else $ob < 10 end) }
  ] }
