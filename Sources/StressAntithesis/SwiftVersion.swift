/// The version of the Swift compiler that built this binary, as `swift --version`
/// prints it ("6.3.1"; a .0 release prints as "6.3"). The SDK line reports it as
/// the language version, as the official SDKs report their language's runtime.
///
/// Swift offers no compile-time constant for it, only `#if compiler(>=…)`, so the
/// releases are listed here; a test compares the result with the toolchain's own
/// `swift --version`, so a toolchain this list does not know yet fails it.
public let swiftCompilerVersion: String = {
    #if compiler(>=6.4)
    return "6.4 or later"
    #elseif compiler(>=6.3.3)
    return "6.3.3"
    #elseif compiler(>=6.3.2)
    return "6.3.2"
    #elseif compiler(>=6.3.1)
    return "6.3.1"
    #elseif compiler(>=6.3)
    return "6.3"
    #elseif compiler(>=6.2.4)
    return "6.2.4"
    #elseif compiler(>=6.2.3)
    return "6.2.3"
    #elseif compiler(>=6.2.2)
    return "6.2.2"
    #elseif compiler(>=6.2.1)
    return "6.2.1"
    #elseif compiler(>=6.2)
    return "6.2"
    #elseif compiler(>=6.1.3)
    return "6.1.3"
    #elseif compiler(>=6.1.2)
    return "6.1.2"
    #elseif compiler(>=6.1.1)
    return "6.1.1"
    #elseif compiler(>=6.1)
    return "6.1"
    #elseif compiler(>=6.0.3)
    return "6.0.3"
    #elseif compiler(>=6.0.2)
    return "6.0.2"
    #elseif compiler(>=6.0.1)
    return "6.0.1"
    #else
    return "6.0"
    #endif
}()
