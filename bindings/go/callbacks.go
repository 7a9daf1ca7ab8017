package refold

// #include <stdint.h>
import "C"

import (
	"fmt"
	"math"
	"os"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// How a handler's panic gets back to Go code without crossing C frames:
// the trampoline recovers it and parks it in the state of its OS thread;
// the Client method that made the C call (on that same, locked thread)
// panics with it again once the C call has returned. This is what would
// happen if the library called the handler directly from Go.
//
// A URL opener's error is parked the same way, to become the cause of the
// ErrCancelled the call returns.

type threadState struct {
	depth     int // refold calls in progress on this thread (handlers may nest them)
	panicked  bool
	panicVal  any
	openerErr error
}

var (
	statesMu sync.Mutex
	states   = map[int]*threadState{}

	// Handles held by the library; tests check that they are all released.
	liveHandles atomic.Int64
)

// enterCall marks a refold call in progress on the calling OS thread, which
// the caller holds locked until leaveCall.
func enterCall() (tid int) {
	tid = syscall.Gettid()
	statesMu.Lock()
	st := states[tid]
	if st == nil {
		st = &threadState{}
		states[tid] = st
	}
	st.depth++
	statesMu.Unlock()
	return tid
}

// leaveCall ends the call and hands back what its handlers left: a panic to
// raise again, and an opener's error.
func leaveCall(tid int) (panicked bool, panicVal any, openerErr error) {
	statesMu.Lock()
	defer statesMu.Unlock()
	st := states[tid]
	panicked, panicVal, openerErr = st.panicked, st.panicVal, st.openerErr
	st.panicked, st.panicVal, st.openerErr = false, nil, nil
	st.depth--
	if st.depth == 0 {
		delete(states, tid)
	}
	return
}

// park records a handler's panic (the first one wins) or an opener's error
// for the refold call running on this thread.
func park(panicVal any, panicked bool, openerErr error) {
	statesMu.Lock()
	defer statesMu.Unlock()
	st := states[syscall.Gettid()]
	if st == nil {
		// Not inside a call made through this package: nothing can raise it.
		if panicked {
			fmt.Fprintf(os.Stderr, "refold: a handler panicked outside any refold call: %v\n", panicVal)
		}
		return
	}
	if panicked && !st.panicked {
		st.panicked, st.panicVal = true, panicVal
	}
	if openerErr != nil && st.openerErr == nil {
		st.openerErr = openerErr
	}
}

type eventHandler func(Event)
type urlOpener func(url string) error
type clock func() time.Time

func newHandle(v any) cgo.Handle {
	liveHandles.Add(1)
	return cgo.NewHandle(v)
}

func deleteHandle(h cgo.Handle) {
	h.Delete()
	liveHandles.Add(-1)
}

//export refoldGoEvent
func refoldGoEvent(eventJSON *C.char, handle C.uintptr_t) {
	defer func() {
		if r := recover(); r != nil {
			park(r, true, nil)
		}
	}()
	fn := cgo.Handle(handle).Value().(eventHandler)
	ev, err := parseEvent(C.GoString(eventJSON))
	if err != nil {
		panic(err)
	}
	fn(ev)
}

//export refoldGoOpenURL
func refoldGoOpenURL(url *C.char, handle C.uintptr_t) (rc C.int) {
	rc = 1
	defer func() {
		if r := recover(); r != nil {
			park(r, true, nil)
			rc = 1
		}
	}()
	fn := cgo.Handle(handle).Value().(urlOpener)
	if err := fn(C.GoString(url)); err != nil {
		park(nil, false, err)
		return 1
	}
	return 0
}

//export refoldGoClock
func refoldGoClock(handle C.uintptr_t) (ms C.double) {
	ms = C.double(math.NaN()) // the library then uses the system clock
	defer func() {
		if r := recover(); r != nil {
			park(r, true, nil)
		}
	}()
	fn := cgo.Handle(handle).Value().(clock)
	return C.double(fn().UnixMilli())
}

//export refoldGoRelease
func refoldGoRelease(handle C.uintptr_t) {
	deleteHandle(cgo.Handle(handle))
}
