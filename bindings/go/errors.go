package refold

// #include "refold.h"
import "C"

import "errors"

// Code is one of refold's error codes (the REFOLD_E* values of refold.h).
type Code int

// The error codes of refold.h. Their values never change meaning.
const (
	CodeInternal       Code = C.REFOLD_ERROR
	CodeInvalid        Code = C.REFOLD_EINVALID
	CodeNotFound       Code = C.REFOLD_ENOTFOUND
	CodeReauthRequired Code = C.REFOLD_EREAUTH
	CodeAuth           Code = C.REFOLD_EAUTH
	CodeNetwork        Code = C.REFOLD_ENETWORK
	CodeProvider       Code = C.REFOLD_EPROVIDER
	CodeState          Code = C.REFOLD_ESTATE
	CodeStore          Code = C.REFOLD_ESTORE
	CodeCrypto         Code = C.REFOLD_ECRYPTO
	CodeTimeout        Code = C.REFOLD_ETIMEOUT
	CodeCancelled      Code = C.REFOLD_ECANCELLED
)

// String is the library's static English text for the code.
func (c Code) String() string { return C.GoString(C.refold_strerror(C.int(c))) }

// Error is a failed refold call: the code and the library's detail message
// (which names what was wrong, never a secret value).
//
// Compare with the sentinels through errors.Is:
//
//	if errors.Is(err, refold.ErrReauthRequired) { ... ask the user to reconnect ... }
type Error struct {
	Code    Code
	Message string
	cause   error // what a URL opener returned, when it cancelled the flow
}

func (e *Error) Error() string {
	text := "refold: " + e.Code.String()
	if e.Message != "" {
		text += ": " + e.Message
	}
	if e.cause != nil {
		text += ": " + e.cause.Error()
	}
	return text
}

// Is reports whether target is the sentinel of e's code, so that
// errors.Is(err, refold.ErrNotFound) holds for every not-found error.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Message == "" && t.cause == nil && t.Code == e.Code
}

// Unwrap gives the error a URL opener returned when it cancelled the flow.
func (e *Error) Unwrap() error { return e.cause }

// Sentinels, one per code, for errors.Is.
var (
	ErrInternal       = &Error{Code: CodeInternal}
	ErrInvalid        = &Error{Code: CodeInvalid}
	ErrNotFound       = &Error{Code: CodeNotFound}
	ErrReauthRequired = &Error{Code: CodeReauthRequired}
	ErrAuth           = &Error{Code: CodeAuth}
	ErrNetwork        = &Error{Code: CodeNetwork}
	ErrProvider       = &Error{Code: CodeProvider}
	ErrState          = &Error{Code: CodeState}
	ErrStore          = &Error{Code: CodeStore}
	ErrCrypto         = &Error{Code: CodeCrypto}
	ErrTimeout        = &Error{Code: CodeTimeout}
	ErrCancelled      = &Error{Code: CodeCancelled}
)

// ErrClosed is returned by every method of a Client after Close.
var ErrClosed = errors.New("refold: the client is closed")

// lastError builds the error of a failed call from its code and
// refold_last_error(). It must run on the OS thread that made the call,
// before any other refold call there: the caller holds the thread locked.
func lastError(rc C.int) *Error {
	return &Error{Code: Code(rc), Message: C.GoString(C.refold_last_error())}
}
