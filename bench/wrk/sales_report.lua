-- Scenario (e): a month of sales by day (GET /api/v1/reports/sales_by_day?date_from&date_to),
-- random tenant, owner JWT. The path comes from bench/reports.py (BENCH_REPORT_PATH).
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
common.install()

local path = assert(os.getenv("BENCH_REPORT_PATH"), "BENCH_REPORT_PATH is not set")

function request()
  local _, host, token = common.pick_tenant()
  return wrk.format("GET", path, {Host = host, Authorization = "Bearer " .. token})
end
