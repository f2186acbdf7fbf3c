package pipeline

import (
	"net/http"

	"github.com/edgeinfer/edgeinfer/internal/credentials"
)

// BasicAuth serves h to the requests that carry c in HTTP basic authentication (RFC 7617),
// compared in constant time, and answers every other one 401 Unauthorized with a challenge, so
// that a browser asks for the username and password. It guards the whole server: the status page,
// its frame and /metrics (Prometheus scrapes with basic_auth in its scrape config).
func BasicAuth(c credentials.Credentials, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || !c.Check([]byte(u), []byte(p)) {
			w.Header().Set("WWW-Authenticate", `Basic realm="edgeinfer", charset="UTF-8"`)
			http.Error(w, "edgeinfer: this page needs the device's username and password (credentials.yaml on its data partition)", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
