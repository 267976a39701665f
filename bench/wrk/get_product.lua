-- Scenario (b): GET /api/v1/catalog/products/<id>, random tenant and product, cashier JWT.
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
common.install()

function request()
  local n, host, token = common.pick_tenant()
  return wrk.format("GET", "/api/v1/catalog/products/" .. common.random_product(n),
                    {Host = host, Authorization = "Bearer " .. token})
end
