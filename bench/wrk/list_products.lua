-- Scenario (a): GET /api/v1/catalog/products, first page of 20, random tenant, cashier JWT.
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
common.install()

function request()
  local _, host, token = common.pick_tenant()
  return wrk.format("GET", "/api/v1/catalog/products?page=1&page_size=20",
                    {Host = host, Authorization = "Bearer " .. token})
end
