-- Scenario (d): GET /cases (ClinCore's root path) with the tenant's API key, random tenant.
-- Sent to the tenant's host; an API key on a platform host names its tenant too.
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
common.install()

function request()
  local _, host, key = common.pick_tenant()
  return wrk.format("GET", "/cases?page=1&page_size=20", {Host = host, ["X-API-Key"] = key})
end
