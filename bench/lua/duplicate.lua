-- POST /api/v1/clients (Facturación) with the document of a fixture client:
-- valid, so it passes validation, then the unique rule answers 400.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

fixed("POST", "/api/v1/clients", FACTURACION,
  '{"company_id": 1, "tipo_documento": "6", "numero_documento": "20100047218", ' ..
  '"razon_social": "COMERCIAL ANDINA S.A.C.", "email": "compras@andina.pe"}')
