// Command baseline is the yardstick of make bench: a bare Echo server
// that answers the two token endpoints with the same bytes as the mock's
// default answers, reading the body but validating nothing, logging
// nothing. The mock's throughput is quoted as a ratio of this one's,
// measured in the same run.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

const (
	renewJSON    = `{"token":"QSDK 9c2e7b14f0a3d8e65b1c4a9f27d03e8b5a6c1f94e2b7d0a38c5f1e69b4d2a7c3","error":{}}`
	validateJSON = `{"DebugMessage":null,"Errors":[],"Status":1,"SecurityToken":"6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64"}`
	validateXML  = `<TokenResponse xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><DebugMessage xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages" i:nil="true"/><Errors xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages"/><Status xmlns="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages">Success</Status><SecurityToken>6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64</SecurityToken></TokenResponse>`
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	flag.Parse()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/commandcenter/api/RenewLoginToken", func(c echo.Context) error {
		_, _ = io.Copy(io.Discard, c.Request().Body)
		return c.Blob(http.StatusOK, "application/json; charset=utf-8", []byte(renewJSON))
	})
	e.PUT("/api/v1/token/request", func(c echo.Context) error {
		_, _ = io.Copy(io.Discard, c.Request().Body)
		if strings.Contains(c.Request().Header.Get("Content-Type"), "xml") {
			return c.Blob(http.StatusOK, "application/xml; charset=utf-8", []byte(validateXML))
		}
		return c.Blob(http.StatusOK, "application/json; charset=utf-8", []byte(validateJSON))
	})
	log.Fatal(e.Start(*addr))
}
