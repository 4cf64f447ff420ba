-- POST /api/v1/clients (Facturación) with a new document on every request:
-- the unique rule on (company, type, number) must pass each time. The number
-- is a run prefix, the thread's number and a counter, so no two requests of
-- a run (nor of two runs on one state) repeat one. wrk gives a script no
-- handle on the connection, only on the thread that owns it: the thread is
-- the finest prefix it can have, and fine enough, since each thread counts
-- alone.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

local run = os.getenv("BENCH_RUN") or tostring(os.time() % 100000)
local counter = 0
local headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json"}
for name, value in pairs(FACTURACION) do headers[name] = value end
local template = '{"company_id": 1, "tipo_documento": "6", "numero_documento": "%s", ' ..
  '"razon_social": "EMPRESA DEMO S.A.C.", "nombre_comercial": "Empresa Demo", ' ..
  '"direccion": "Av. Los Comerciantes 123", "ubigeo": "150101", "distrito": "Lima", ' ..
  '"provincia": "Lima", "departamento": "Lima", "telefono": "01-2345678", ' ..
  '"email": "contacto@empresademo.pe", "activo": true}'

function request()
  counter = counter + 1
  local document = string.format("%s%02d%09d", run, tid or 0, counter)
  return wrk.format("POST", "/api/v1/clients", headers, string.format(template, document))
end
