-- POST /api2/clients (Daftra): the documented example body; Daftra has no
-- unique rule on clients, so every request creates one. The state grows, so
-- the bench resets it through the admin API after this workload.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

fixed("POST", "/api2/clients", DAFTRA,
  '{"Client": {"is_offline": true, "staff_id": 1, "business_name": "Mock Business", ' ..
  '"first_name": "John", "last_name": "Doe", "email": "mock@example.com", ' ..
  '"address1": "123 Mock Street", "city": "Mock City", "state": "Mock State", ' ..
  '"postal_code": "12345", "phone1": "123-456-7890", "country_code": "US", ' ..
  '"default_currency_code": "USD", "category": "Mock Category", "type": 2}}')
