-- Shared by every scenario script: credentials per tenant, random picks, result collection.
--
-- Environment (set by bench/wrk.py):
--   BENCH_CREDENTIALS  file with one "<host> <credential>" line per tenant (tenant n = line n)
--   BENCH_PRODUCTS     products per tenant (ids follow bench/naming.py)
--   BENCH_DELAY_MS     pause after each response on a connection (rate-limited runs), or 0
--   BENCH_SEED         random seed (each thread adds its own id)
--   BENCH_RUN_ID       unique per wrk run (keeps Idempotency-Keys unique across runs)
local M = {}

local hosts, credentials = {}, {}
local products = tonumber(os.getenv("BENCH_PRODUCTS") or "200")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local threads = {}
local thread_counter = 0

function M.load_credentials()
  local path = assert(os.getenv("BENCH_CREDENTIALS"), "BENCH_CREDENTIALS is not set")
  for line in io.lines(path) do
    local host, credential = line:match("^(%S+) (%S+)$")
    if host then
      hosts[#hosts + 1] = host
      credentials[#credentials + 1] = credential
    end
  end
  assert(#hosts > 0, "no credentials in " .. path)
end

-- A random tenant number (1-based), its host and credential.
function M.pick_tenant()
  local n = math.random(#hosts)
  return n, hosts[n], credentials[n]
end

function M.product_id(n, k)
  return string.format("%08x-0000-4000-a000-%012x", k, n)
end

function M.random_product(n)
  return M.product_id(n, math.random(products))
end

M.run_id = os.getenv("BENCH_RUN_ID") or "run"

function M.products()
  return products
end

-- wrk hooks ------------------------------------------------------------------------------

function M.setup(thread)
  thread_counter = thread_counter + 1
  thread:set("id", thread_counter)
  threads[#threads + 1] = thread
end

function M.init()
  math.randomseed(tonumber(os.getenv("BENCH_SEED") or "1") + (id or 0) * 7919)
  M.load_credentials()
  statuses = {}
  non2xx = 0
end

function M.response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    statuses[status] = (statuses[status] or 0) + 1
    if non2xx <= 3 then
      io.stderr:write(string.format("non-2xx %d: %s\n", status, (body or ""):sub(1, 300)))
    end
  end
end

function M.delay()
  return delay_ms
end

-- One JSON line on stdout that bench/wrk.py parses.
function M.done(summary, latency, requests)
  local total_non2xx, by_status = 0, {}
  for _, thread in ipairs(threads) do
    total_non2xx = total_non2xx + (thread:get("non2xx") or 0)
    local counts = thread:get("statuses") or {}
    for status, count in pairs(counts) do
      by_status[#by_status + 1] = string.format('"%d": %d', status, count)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "non2xx": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "status_errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, total_non2xx, e.connect, e.read,
    e.write, e.timeout, e.status, table.concat(by_status, ", ")))
end

-- Install the hooks into wrk's globals; a scenario then defines request().
function M.install()
  setup = M.setup
  init = M.init
  response = M.response
  done = M.done
  if delay_ms > 0 then
    delay = M.delay
  end
end

return M
