//go:build windows || plan9

package main

import (
	"errors"

	"wardline/app"
)

func newSyslogWitness() (app.Witness, error) {
	return nil, errors.New("this system has no syslog")
}
