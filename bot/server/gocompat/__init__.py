"""Go behaviour that shows at Alertmanager's HTTP API, reproduced for exact status codes and
messages: `encoding/json` (syntax and type errors, first-value decoding), `time.Parse` with
go-openapi's date-time layouts, `net/url.ParseRequestURI` and `mime.ParseMediaType`.

Ported from the Go 1.19 sources the Debian Alertmanager 0.25 binary was built with.
"""
