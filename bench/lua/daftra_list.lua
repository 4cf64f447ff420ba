-- GET /api2/clients (Daftra): the first page (20 a page), unfiltered; the
-- scale figures time it at 100 and at 100,000 stored clients.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

fixed("GET", "/api2/clients", DAFTRA)
