-- wrk script: GET /api/v1/photos?flagged=true&limit=50 (the verification page's listing) with $TOKEN.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.path = "/api/v1/photos?limit=50"
