-- GET /api/v1/clients/1 (Facturación): one client, with its company embedded.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

fixed("GET", "/api/v1/clients/1", FACTURACION)
