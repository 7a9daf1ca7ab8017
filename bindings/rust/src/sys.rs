//! The C ABI of `include/refold.h`, declared as is. Everything here is
//! unsafe; the rest of the crate is the safe API over it.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_void};
use std::marker::{PhantomData, PhantomPinned};

pub const REFOLD_OK: c_int = 0;
pub const REFOLD_ERROR: c_int = -1;
pub const REFOLD_EINVALID: c_int = -2;
pub const REFOLD_ENOTFOUND: c_int = -3;
pub const REFOLD_EREAUTH: c_int = -4;
pub const REFOLD_EAUTH: c_int = -5;
pub const REFOLD_ENETWORK: c_int = -6;
pub const REFOLD_EPROVIDER: c_int = -7;
pub const REFOLD_ESTATE: c_int = -8;
pub const REFOLD_ESTORE: c_int = -9;
pub const REFOLD_ECRYPTO: c_int = -10;
pub const REFOLD_ETIMEOUT: c_int = -11;
pub const REFOLD_ECANCELLED: c_int = -12;

/// An opaque client handle.
#[repr(C)]
pub struct refold_client {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

pub type refold_open_url_cb =
    Option<unsafe extern "C" fn(url: *const c_char, payload: *mut c_void) -> c_int>;
pub type refold_event_cb =
    Option<unsafe extern "C" fn(event_json: *const c_char, payload: *mut c_void)>;
pub type refold_clock_cb = Option<unsafe extern "C" fn(payload: *mut c_void) -> f64>;
pub type refold_free_payload_cb = Option<unsafe extern "C" fn(payload: *mut c_void)>;

extern "C" {
    pub fn refold_version() -> *const c_char;
    pub fn refold_strerror(code: c_int) -> *const c_char;
    pub fn refold_last_error() -> *const c_char;
    pub fn refold_free(ptr: *mut c_void);

    pub fn refold_client_open(out: *mut *mut refold_client, config_json: *const c_char) -> c_int;
    pub fn refold_client_free(client: *mut refold_client);

    pub fn refold_connect(
        client: *mut refold_client,
        account: *const c_char,
        app: *const c_char,
        payload_json: *const c_char,
    ) -> c_int;
    pub fn refold_connect_oauth(
        client: *mut refold_client,
        account: *const c_char,
        app: *const c_char,
        options_json: *const c_char,
    ) -> c_int;
    pub fn refold_import_connection(
        client: *mut refold_client,
        account: *const c_char,
        app: *const c_char,
        credentials_json: *const c_char,
    ) -> c_int;
    pub fn refold_disconnect(
        client: *mut refold_client,
        account: *const c_char,
        app: *const c_char,
    ) -> c_int;
    pub fn refold_delete_account(client: *mut refold_client, account: *const c_char) -> c_int;
    pub fn refold_get_credentials(
        client: *mut refold_client,
        account: *const c_char,
        app: *const c_char,
        json_out: *mut *mut c_char,
    ) -> c_int;
    pub fn refold_list_apps(
        client: *mut refold_client,
        account: *const c_char,
        json_out: *mut *mut c_char,
    ) -> c_int;
    pub fn refold_list_connections(
        client: *mut refold_client,
        account: *const c_char,
        json_out: *mut *mut c_char,
    ) -> c_int;
    pub fn refold_list_connections_page(
        client: *mut refold_client,
        query_json: *const c_char,
        json_out: *mut *mut c_char,
    ) -> c_int;
    pub fn refold_copy_connections(
        from: *mut refold_client,
        to: *mut refold_client,
        report_json: *mut *mut c_char,
    ) -> c_int;

    pub fn refold_read_events(
        client: *mut refold_client,
        consumer: *const c_char,
        max: usize,
        json_out: *mut *mut c_char,
    ) -> c_int;
    pub fn refold_ack_events(
        client: *mut refold_client,
        consumer: *const c_char,
        seq: i64,
    ) -> c_int;

    pub fn refold_oauth_begin(
        client: *mut refold_client,
        account: *const c_char,
        app: *const c_char,
        options_json: *const c_char,
        authorize_url_out: *mut *mut c_char,
    ) -> c_int;
    pub fn refold_oauth_complete(
        client: *mut refold_client,
        callback_url: *const c_char,
        result_json_out: *mut *mut c_char,
    ) -> c_int;
    pub fn refold_set_url_opener(
        client: *mut refold_client,
        cb: refold_open_url_cb,
        payload: *mut c_void,
        free_payload: refold_free_payload_cb,
    ) -> c_int;

    pub fn refold_set_event_handler(
        client: *mut refold_client,
        cb: refold_event_cb,
        payload: *mut c_void,
        free_payload: refold_free_payload_cb,
    ) -> c_int;

    pub fn refold_report_unauthorized(
        client: *mut refold_client,
        account: *const c_char,
        app: *const c_char,
    ) -> c_int;
    pub fn refold_report_unauthorized_token(
        client: *mut refold_client,
        account: *const c_char,
        app: *const c_char,
        access_token: *const c_char,
    ) -> c_int;
    pub fn refold_mark_reauth(
        client: *mut refold_client,
        account: *const c_char,
        app: *const c_char,
        reason: *const c_char,
    ) -> c_int;
    pub fn refold_set_clock(
        client: *mut refold_client,
        cb: refold_clock_cb,
        payload: *mut c_void,
        free_payload: refold_free_payload_cb,
    ) -> c_int;

    pub fn refold_rotate_master_key(client: *mut refold_client, new_key: *const c_char) -> c_int;
    pub fn refold_rotate_data_key(client: *mut refold_client) -> c_int;
    pub fn refold_data_key_status(client: *mut refold_client, json_out: *mut *mut c_char) -> c_int;
}
