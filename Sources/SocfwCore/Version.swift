/// socfw's version, reported by `socfwd --version`, the control socket's
/// greeting and `status`.
public enum SocfwVersion {
    public static let string = "0.5.0"
}
