// The C ABI of include/refold.h, declared with DllImport (as .NET and Mono
// both load it), and the SafeHandle that owns a client.
using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Refold
{
    /// <summary>Owns a refold_client: released by Dispose or, as a backstop,
    /// by the runtime's critical finalizer. P/Invoke calls add a reference
    /// for their duration, so a call in progress is never cut short.</summary>
    internal sealed class ClientHandle : SafeHandle
    {
        private ClientHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            Callbacks.Enter();
            try { Native.refold_client_free(handle); }
            finally { Callbacks.Discard(); }
            return true;
        }
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int OpenUrlCallback(IntPtr url, IntPtr payload);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void EventCallback(IntPtr eventJson, IntPtr payload);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate double ClockCallback(IntPtr payload);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void FreePayloadCallback(IntPtr payload);

    internal static class Native
    {
        // Resolved by the runtime's loader as librefold.so: see README.md.
        private const string Lib = "refold";

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr refold_version();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr refold_strerror(int code);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr refold_last_error();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void refold_free(IntPtr ptr);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_client_open(out ClientHandle client, byte[] configJson);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void refold_client_free(IntPtr client);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_connect(ClientHandle client, byte[] account, byte[] app, byte[] payloadJson);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_connect_oauth(ClientHandle client, byte[] account, byte[] app, byte[] optionsJson);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_import_connection(ClientHandle client, byte[] account, byte[] app, byte[] credentialsJson);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_disconnect(ClientHandle client, byte[] account, byte[] app);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_delete_account(ClientHandle client, byte[] account);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_get_credentials(ClientHandle client, byte[] account, byte[] app, out IntPtr jsonOut);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_list_apps(ClientHandle client, byte[] account, out IntPtr jsonOut);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_list_connections(ClientHandle client, byte[] account, out IntPtr jsonOut);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_list_connections_page(ClientHandle client, byte[] queryJson, out IntPtr jsonOut);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_copy_connections(ClientHandle from, ClientHandle to, out IntPtr reportJson);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_read_events(ClientHandle client, byte[] consumer, UIntPtr max, out IntPtr jsonOut);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_ack_events(ClientHandle client, byte[] consumer, long seq);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_oauth_begin(ClientHandle client, byte[] account, byte[] app, byte[] optionsJson, out IntPtr urlOut);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_oauth_complete(ClientHandle client, byte[] callbackUrl, out IntPtr resultJsonOut);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_set_url_opener(ClientHandle client, OpenUrlCallback cb, IntPtr payload, FreePayloadCallback freePayload);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_set_event_handler(ClientHandle client, EventCallback cb, IntPtr payload, FreePayloadCallback freePayload);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_report_unauthorized(ClientHandle client, byte[] account, byte[] app);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_report_unauthorized_token(ClientHandle client, byte[] account, byte[] app, byte[] accessToken);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_mark_reauth(ClientHandle client, byte[] account, byte[] app, byte[] reason);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_set_clock(ClientHandle client, ClockCallback cb, IntPtr payload, FreePayloadCallback freePayload);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_rotate_master_key(ClientHandle client, byte[] newKey);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_rotate_data_key(ClientHandle client);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int refold_data_key_status(ClientHandle client, out IntPtr jsonOut);

        /// <summary>A string as NUL-terminated UTF-8 (null stays null). A NUL
        /// inside would cut it short in C, so it is refused.</summary>
        internal static byte[] Utf8(string s, string what)
        {
            if (s == null) return null;
            if (s.IndexOf('\0') >= 0) throw new ArgumentException(what + " contains a NUL character", what);
            var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        /// <summary>Zeroes the argument copies a call made of secrets (a
        /// config, connect fields, a token, a key, a callback URL's code,
        /// OAuth options with a client secret) once the call returns. Managed strings cannot be wiped; these
        /// copies, the ones the library read, can.</summary>
        internal static void Wipe(params byte[][] copies)
        {
            foreach (var c in copies)
                if (c != null) Array.Clear(c, 0, c.Length);
        }

        /// <summary>Reads a NUL-terminated UTF-8 string the library owns.</summary>
        internal static string ReadUtf8(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) n++;
            var bytes = new byte[n];
            Marshal.Copy(p, bytes, 0, n);
            try { return Encoding.UTF8.GetString(bytes); }
            finally { Array.Clear(bytes, 0, n); }
        }

        /// <summary>Reads a string the library returned, then releases it with
        /// refold_free (which wipes it).</summary>
        internal static string Take(IntPtr p)
        {
            try { return ReadUtf8(p); }
            finally { refold_free(p); }
        }
    }
}
