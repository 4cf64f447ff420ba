-- POST /api/v1/clients (Facturación) missing the required fields and with a
-- bad e-mail and ubigeo: 422 with one message per field.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

fixed("POST", "/api/v1/clients", FACTURACION, '{"company_id": 1, "email": "not-an-address", "ubigeo": "15"}')
