-- pick.lua: the wrk script of `make bench`: every request carries a token
-- drawn at random from a file (one token a line), so the keys are spread.
--   wrk -s pick.lua URL -- TOKENS [METHOD]
-- METHOD is GET (the default) or POST (an empty body, Content-Length: 0).
-- At the end it prints one JSON line: requests, duration, latency percentiles.

local threads = {}
local counter = 0

function setup(thread)
	counter = counter + 1
	thread:set("id", counter)
	table.insert(threads, thread)
end

local tokens = {}
local method = "GET"
local headers = {}
local body = nil

function init(args)
	local file = args[1]
	method = args[2] or "GET"
	for line in io.lines(file) do
		if line ~= "" then
			tokens[#tokens + 1] = line
		end
	end
	if #tokens == 0 then
		error("pick.lua: no tokens in " .. file)
	end
	math.randomseed(os.time() * 1000 + id)
	if method == "POST" then
		body = ""	-- wrk.format() then sends Content-Length: 0
	end
end

function request()
	headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]
	return wrk.format(method, nil, headers, body)
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
	    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
	    '"max_us":%d,"mean_us":%.1f,"non_2xx_3xx":%d,"socket_errors":%d}\n',
	    summary.requests, summary.duration, latency:percentile(50),
	    latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
	    e.status, e.connect + e.read + e.write + e.timeout))
end
