//! Trampolines between the C library and Rust closures.
//!
//! A handler is a boxed closure handed to the library as its payload and
//! dropped by `free_payload` when the registration ends. A panic inside it
//! is caught in the trampoline (it must never unwind into C frames), parked
//! in the calling thread's slot, and resumed by the `Client` method that
//! made the C call once that call has returned: to the caller it looks as if
//! the handler had been called directly. A panic on a thread with no call of
//! this crate in progress (which the library never does today) is dropped
//! after the panic hook has reported it.
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, c_void, CStr};
use std::panic::{self, AssertUnwindSafe};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::types::Event;

pub(crate) type EventFn = dyn Fn(&Event) + Send + Sync + 'static;
pub(crate) type OpenerFn = dyn Fn(&str) -> std::io::Result<()> + Send + Sync + 'static;
pub(crate) type ClockFn = dyn Fn() -> SystemTime + Send + Sync + 'static;

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    static PANIC: RefCell<Option<Box<dyn Any + Send>>> = const { RefCell::new(None) };
    static OPENER_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Marks a C call in progress on this thread; dropping it ends the call.
pub(crate) struct CallScope(());

impl CallScope {
    pub(crate) fn enter() -> CallScope {
        DEPTH.with(|d| d.set(d.get() + 1));
        CallScope(())
    }

    /// Ends the call: resumes a handler's panic, or hands back the error a
    /// URL opener returned.
    pub(crate) fn finish(self) -> Option<String> {
        drop(self);
        if let Some(p) = PANIC.with(|slot| slot.borrow_mut().take()) {
            panic::resume_unwind(p);
        }
        OPENER_ERROR.with(|slot| slot.borrow_mut().take())
    }

    /// Ends the call, dropping whatever its handlers left (for `Drop`,
    /// which must not panic).
    pub(crate) fn discard(self) {
        drop(self);
        PANIC.with(|slot| slot.borrow_mut().take());
        OPENER_ERROR.with(|slot| slot.borrow_mut().take());
    }
}

impl Drop for CallScope {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get() - 1));
    }
}

/// Runs `f`, parking a panic for the call in progress on this thread.
fn catching<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            if DEPTH.with(Cell::get) > 0 {
                PANIC.with(|slot| {
                    let mut slot = slot.borrow_mut();
                    if slot.is_none() {
                        *slot = Some(p);
                    }
                });
            }
            fallback
        }
    }
}

pub(crate) unsafe extern "C" fn event_trampoline(event_json: *const c_char, payload: *mut c_void) {
    catching((), || {
        // SAFETY: payload is the Box<Box<EventFn>> that set_event_handler
        // leaked; the library keeps it alive while calls are in flight.
        let handler = unsafe { &*(payload as *const Box<EventFn>) };
        // SAFETY: the library passes a NUL-terminated string valid for the call.
        let text = unsafe { CStr::from_ptr(event_json) }.to_string_lossy();
        match Event::parse(&text) {
            Ok(event) => handler(&event),
            Err(e) => panic!("refold: an event the binding cannot read: {e}"),
        }
    })
}

pub(crate) unsafe extern "C" fn opener_trampoline(
    url: *const c_char,
    payload: *mut c_void,
) -> c_int {
    catching(1, || {
        // SAFETY: as for event_trampoline.
        let opener = unsafe { &*(payload as *const Box<OpenerFn>) };
        let url = unsafe { CStr::from_ptr(url) }.to_string_lossy();
        match opener(&url) {
            Ok(()) => 0,
            Err(e) => {
                OPENER_ERROR.with(|slot| *slot.borrow_mut() = Some(e.to_string()));
                1
            }
        }
    })
}

pub(crate) unsafe extern "C" fn clock_trampoline(payload: *mut c_void) -> f64 {
    // NaN makes the library use the system clock for this reading.
    catching(f64::NAN, || {
        // SAFETY: as for event_trampoline.
        let clock = unsafe { &*(payload as *const Box<ClockFn>) };
        match clock().duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_millis() as f64,
            Err(_) => f64::NAN,
        }
    })
}

pub(crate) unsafe extern "C" fn free_event_handler(payload: *mut c_void) {
    // SAFETY: called once, when the registration of this payload ends.
    catching((), || {
        drop(unsafe { Box::from_raw(payload as *mut Box<EventFn>) })
    })
}

pub(crate) unsafe extern "C" fn free_opener(payload: *mut c_void) {
    // SAFETY: as for free_event_handler.
    catching((), || {
        drop(unsafe { Box::from_raw(payload as *mut Box<OpenerFn>) })
    })
}

pub(crate) unsafe extern "C" fn free_clock(payload: *mut c_void) {
    // SAFETY: as for free_event_handler.
    catching((), || {
        drop(unsafe { Box::from_raw(payload as *mut Box<ClockFn>) })
    })
}
