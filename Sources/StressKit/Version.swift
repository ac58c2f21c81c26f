/// The version of sqlite-stress.
public let version = "0.1.0"
