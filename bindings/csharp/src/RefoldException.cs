using System;

namespace Refold
{
    /// <summary>The error codes of refold.h. Their values never change meaning.</summary>
    public enum ErrorCode
    {
        Ok = 0,
        /// <summary>An unexpected internal failure.</summary>
        Internal = -1,
        /// <summary>A bad argument, config, payload or catalog entry.</summary>
        Invalid = -2,
        /// <summary>An unknown app, or no such connection.</summary>
        NotFound = -3,
        /// <summary>The connection needs its user to re-authenticate.</summary>
        ReauthRequired = -4,
        /// <summary>The provider rejected the credentials.</summary>
        Auth = -5,
        /// <summary>The provider could not be reached.</summary>
        Network = -6,
        /// <summary>The provider answered with an error.</summary>
        Provider = -7,
        /// <summary>An unknown, reused or expired OAuth state.</summary>
        State = -8,
        /// <summary>The store could not be read or written.</summary>
        Store = -9,
        /// <summary>A wrong master key, or data that failed authentication.</summary>
        Crypto = -10,
        /// <summary>An operation ran out of time.</summary>
        Timeout = -11,
        /// <summary>An operation was cancelled.</summary>
        Cancelled = -12,
    }

    /// <summary>A failed refold call: the <see cref="Code"/> and the library's
    /// detail message, which names what was wrong and never holds a secret.
    /// A connection that needs its user to connect again throws the subclass
    /// <see cref="ReauthRequiredException"/>.</summary>
    public class RefoldException : Exception
    {
        public ErrorCode Code { get; }

        /// <summary>The library's detail message alone ("" when none).</summary>
        public string Detail { get; }

        public RefoldException(ErrorCode code, string detail)
            : base(Describe(code, detail))
        {
            Code = code;
            Detail = detail ?? "";
        }

        /// <summary>Whether the user must connect again.</summary>
        public bool IsReauthRequired => Code == ErrorCode.ReauthRequired;

        /// <summary>The library's static text for a code.</summary>
        public static string Describe(ErrorCode code)
        {
            return Native.ReadUtf8(Native.refold_strerror((int)code));
        }

        private static string Describe(ErrorCode code, string detail)
        {
            string text = Describe(code);
            return string.IsNullOrEmpty(detail) ? text : text + ": " + detail;
        }

        /// <summary>The one place where a return code becomes an exception.</summary>
        internal static RefoldException FromCode(int rc, string detail)
        {
            var code = (ErrorCode)rc;
            if (code == ErrorCode.ReauthRequired) return new ReauthRequiredException(detail);
            return new RefoldException(code, detail);
        }
    }

    /// <summary>The connection needs its user to connect again
    /// (<see cref="ErrorCode.ReauthRequired"/>).</summary>
    public sealed class ReauthRequiredException : RefoldException
    {
        public ReauthRequiredException(string detail) : base(ErrorCode.ReauthRequired, detail) { }
    }
}
