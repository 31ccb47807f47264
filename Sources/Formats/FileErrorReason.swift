import Foundation

extension NSError {
    /// The POSIX reason under a Foundation file error ("No space left on device"), else its own description.
    public var underlyingErrorReason: String {
        if let underlying = userInfo[NSUnderlyingErrorKey] as? any Error {
            let posix = underlying as NSError
            if posix.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(posix.code))) }
        }
        if domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(code))) }
        return localizedDescription
    }
}
