-- GET /api/v1/clients (Facturación): the first page (20 a page), unfiltered.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

fixed("GET", "/api/v1/clients", FACTURACION)
