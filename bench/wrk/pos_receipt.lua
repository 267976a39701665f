-- Scenario (c): POST a POS receipt (3 random products, quantity 1, paid in cash) to the
-- tenant's register R1 with a fresh Idempotency-Key, random tenant, cashier JWT.
-- Ids follow bench/naming.py and bench/pos.py.
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
common.install()

local counter = 0

local function register_id(n)
  return string.format("00000000-0000-4000-9000-%012x", n)
end

local function three_products(n)
  local count = common.products()
  local a = math.random(count)
  local b = a % count + 1
  local c = b % count + 1
  if count >= 3 then
    b = (a + math.random(count - 2) - 1) % count + 1  -- any product but a
    repeat c = math.random(count) until c ~= a and c ~= b
  end
  return {common.product_id(n, a), common.product_id(n, b), common.product_id(n, c)}
end

function request()
  local n, host, token = common.pick_tenant()
  local lines = {}
  for i, product in ipairs(three_products(n)) do
    lines[i] = string.format('{"product_id": "%s", "quantity": "1"}', product)
  end
  local body = '{"lines": [' .. table.concat(lines, ", ") ..
               '], "payments": [{"method": "cash", "amount": "10000.00"}]}'
  counter = counter + 1
  local key = string.format("bench-%s-%d-%d", common.run_id, id or 0, counter)
  return wrk.format("POST", "/api/v1/pos/registers/" .. register_id(n) .. "/receipts",
                    {Host = host, Authorization = "Bearer " .. token,
                     ["Content-Type"] = "application/json", ["Idempotency-Key"] = key}, body)
end
