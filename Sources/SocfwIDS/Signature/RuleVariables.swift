// Address and port variables of the rule header (`$HOME_NET`, `$HTTP_PORTS`),
// as text in rule syntax. Resolution (and the check for undefined or
// recursive definitions) happens in `RuleParser`, once per parser.

/// The `vars:` of a rule set: address groups and port groups.
///
/// Values are written in rule syntax and may refer to other variables:
/// `"[192.168.0.0/16,!192.168.1.0/24]"`, `"!$HOME_NET"`, `"[$HTTP_PORTS,8443]"`.
/// Names are given without the `$`.
public struct RuleVariables: Sendable, Equatable {
    public var addresses: [String: String]
    public var ports: [String: String]

    /// Suricata's defaults (suricata.yaml), with two deliberate differences:
    ///
    /// * `EXTERNAL_NET` is `any`, not `!$HOME_NET`: an inline IPS also sees
    ///   traffic between internal hosts and between hosts it routes for, and
    ///   ET's "inbound" rules should still fire there. Set it to `!$HOME_NET`
    ///   to get Suricata's behaviour.
    /// * `HTTP_PORTS` is Snort 3's list of common web ports (Suricata's
    ///   default is `80` alone), so `$HTTP_PORTS` rules also see proxies and
    ///   admin consoles.
    ///
    /// Snort 3's `SIP_SERVERS`, `FTP_SERVERS`, `SSH_SERVERS` (= `$HOME_NET`),
    /// `SIP_PORTS` and `MAIL_PORTS` are added so the Snort 3 community rules
    /// load without extra configuration.
    public init(addresses: [String: String] = RuleVariables.defaultAddresses,
                ports: [String: String] = RuleVariables.defaultPorts) {
        self.addresses = addresses
        self.ports = ports
    }

    public static let defaultAddresses: [String: String] = {
        var vars = ["HOME_NET": "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12,fc00::/7]", "EXTERNAL_NET": "any"]
        for name in ["HTTP_SERVERS", "SMTP_SERVERS", "SQL_SERVERS", "DNS_SERVERS", "TELNET_SERVERS", "AIM_SERVERS",
                     "DC_SERVERS", "DNP3_SERVER", "DNP3_CLIENT", "MODBUS_CLIENT", "MODBUS_SERVER", "ENIP_CLIENT",
                     "ENIP_SERVER", "SIP_SERVERS", "FTP_SERVERS", "SSH_SERVERS"] {
            vars[name] = "$HOME_NET"
        }
        return vars
    }()

    /// Snort 3's `HTTP_PORTS` (snort_defaults.lua).
    public static let commonHTTPPorts =
        "[80,81,311,383,591,593,901,1220,1414,1741,1830,2301,2381,2809,3037,3128,3702,4343,4848,5250,6988,7000,"
        + "7001,7144,7145,7510,7777,7779,8000,8008,8014,8028,8080,8085,8088,8090,8118,8123,8180,8181,8243,8280,"
        + "8300,8800,8888,8899,9000,9060,9080,9090,9091,9443,9999,11371,34443,34444,41080,50002,55555]"

    public static let defaultPorts: [String: String] = [
        "HTTP_PORTS": commonHTTPPorts,
        "SHELLCODE_PORTS": "!80",
        "ORACLE_PORTS": "1521",
        "SSH_PORTS": "22",
        "DNP3_PORTS": "20000",
        "MODBUS_PORTS": "502",
        "FILE_DATA_PORTS": "[$HTTP_PORTS,110,143]",
        "FTP_PORTS": "21",
        "GENEVE_PORTS": "6081",
        "VXLAN_PORTS": "4789",
        "TEREDO_PORTS": "3544",
        "SIP_PORTS": "[5060,5061,5600]",
        "MAIL_PORTS": "[110,143]",
    ]
}
