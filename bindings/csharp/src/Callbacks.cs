// Trampolines between the C library and managed handlers.
//
// The payload of each registration is a weak GCHandle to the client's
// Dispatcher, which the client holds: handlers stay alive exactly as long
// as their client, whatever the collector does, and a handler that refers
// to its own client does not keep an undisposed client alive forever (the
// finalizer backstop can still run). free_payload frees the GCHandle.
//
// No exception ever propagates into native frames: a trampoline catches
// it and parks it in its thread's slot, and the RefoldClient method that
// made the native call (on that same thread) throws it again once the call
// has returned, with its original stack trace. To the caller this looks as
// if the handler had been called directly. An exception on a thread with
// no call of this binding in progress (the library's background refresher)
// cannot be thrown anywhere; it is written to standard error.
using System;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace Refold
{
    internal static class Callbacks
    {
        // Kept in static fields so the delegates are never collected while
        // the library holds their function pointers.
        internal static readonly EventCallback Event = OnEvent;
        internal static readonly OpenUrlCallback OpenUrl = OnOpenUrl;
        internal static readonly ClockCallback Clock = OnClock;
        internal static readonly FreePayloadCallback Free = OnFree;

        [ThreadStatic] private static int depth;
        [ThreadStatic] private static ExceptionDispatchInfo pending;

        private static long liveHandles;

        /// <summary>GCHandles the library holds (tests check they are released).</summary>
        internal static long LiveHandles => Interlocked.Read(ref liveHandles);

        internal static IntPtr NewPayload(object target)
        {
            Interlocked.Increment(ref liveHandles);
            return GCHandle.ToIntPtr(GCHandle.Alloc(target, GCHandleType.Weak));
        }

        /// <summary>Frees a payload the library never took.</summary>
        internal static void FreePayload(IntPtr payload) => OnFree(payload);

        internal static void Enter() => depth++;

        /// <summary>Ends a call; throws what a handler threw during it.</summary>
        internal static void Leave()
        {
            depth--;
            var e = pending;
            pending = null;
            e?.Throw();
        }

        /// <summary>Ends a call, dropping what a handler threw (for release
        /// paths, which must not throw).</summary>
        internal static void Discard()
        {
            depth--;
            pending = null;
        }

        private static void Park(Exception e)
        {
            if (depth > 0)
            {
                if (pending == null) pending = ExceptionDispatchInfo.Capture(e);
                return;
            }
            try { Console.Error.WriteLine("refold: a handler threw outside any refold call: " + e); }
            catch { }
        }

        private static Dispatcher Target(IntPtr payload)
        {
            return GCHandle.FromIntPtr(payload).Target as Dispatcher;
        }

        private static void OnEvent(IntPtr eventJson, IntPtr payload)
        {
            try
            {
                var d = Target(payload);
                if (d == null) return; // its client is being collected
                d.Raise(ConnectionEventArgs.Parse(Native.ReadUtf8(eventJson)));
            }
            catch (Exception e) { Park(e); }
        }

        private static int OnOpenUrl(IntPtr url, IntPtr payload)
        {
            try
            {
                var opener = Target(payload)?.UrlOpener;
                if (opener == null) return 1;
                opener(Native.ReadUtf8(url));
                return 0;
            }
            catch (Exception e)
            {
                Park(e);
                return 1;
            }
        }

        private static double OnClock(IntPtr payload)
        {
            try
            {
                var clock = Target(payload)?.Clock;
                if (clock == null) return double.NaN; // the library then uses the system clock
                return clock().ToUnixTimeMilliseconds();
            }
            catch (Exception e)
            {
                Park(e);
                return double.NaN;
            }
        }

        private static void OnFree(IntPtr payload)
        {
            try
            {
                GCHandle.FromIntPtr(payload).Free();
                Interlocked.Decrement(ref liveHandles);
            }
            catch (Exception e) { Park(e); }
        }
    }

    /// <summary>What a client's registrations call into: its events, URL
    /// opener and clock. Referenced strongly only by its client.</summary>
    internal sealed class Dispatcher
    {
        private readonly object sender;
        internal volatile Action<string> UrlOpener;
        internal volatile Func<DateTimeOffset> Clock;

        internal EventHandler<ConnectionEventArgs> Changed, Created, Reauthenticated, Refreshed,
            RefreshFailed, Expired, Deleted;

        internal Dispatcher(object sender) { this.sender = sender; }

        internal void Raise(ConnectionEventArgs e)
        {
            EventHandler<ConnectionEventArgs> specific = null;
            switch (e.Type)
            {
                case ConnectionEventArgs.CreatedType: specific = Created; break;
                case ConnectionEventArgs.ReauthenticatedType: specific = Reauthenticated; break;
                case ConnectionEventArgs.RefreshedType: specific = Refreshed; break;
                case ConnectionEventArgs.RefreshFailedType: specific = RefreshFailed; break;
                case ConnectionEventArgs.ExpiredType: specific = Expired; break;
                case ConnectionEventArgs.DeletedType: specific = Deleted; break;
            }
            specific?.Invoke(sender, e);
            Changed?.Invoke(sender, e);
        }
    }
}
