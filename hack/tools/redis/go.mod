// Pinned build of a Redis-compatible server for the local fleet's Argo CD cache (see ../README.md):
// miniredis wrapped in a small main package, so the fleet needs no system redis-server.
module github.com/gitops-hub/gitops-hub/hack/tools/redis

go 1.26.0

require github.com/alicebob/miniredis/v2 v2.40.0

require github.com/yuin/gopher-lua v1.1.1 // indirect
