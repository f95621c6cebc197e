-- wrk script: POST /api/v1/photos with each of the JPEGs listed in $PHOTOS (one path per line)
-- in turn, with the bearer token $TOKEN and a location, as a field app sends them.
local bodies = {}
local n = 0

function init(args)
  for path in io.lines(os.getenv("PHOTOS")) do
    local f = assert(io.open(path, "rb"))
    bodies[#bodies + 1] = f:read("*a")
    f:close()
  end
  n = math.random(#bodies)
end

function request()
  n = n % #bodies + 1
  local headers = { ["Authorization"] = "Bearer " .. os.getenv("TOKEN"), ["Content-Type"] = "image/jpeg" }
  return wrk.format("POST", "/api/v1/photos?latitude=37.17&longitude=37.03&source=wrk", headers, bodies[n])
end
