import SocfwCore
import Testing

@Suite struct ConfigReloadTests {
    let base = """
        queues: { count: 2 }
        rules: /etc/socfw/rules.d
        default_action: ALLOW
        quarantine: { database: /var/lib/socfw/socfw.db, allowlist: [192.0.2.0/24] }
        signatures: { paths: [/etc/socfw/sig.d] }
        """

    @Test func unchangedIsUnchanged() throws {
        let running = try SocfwConfig.parse(yaml: base, file: "/etc/socfw/socfwd.yaml")
        let change = ConfigReload(running: running, new: running)
        #expect(change.applied.isEmpty && change.restartRequired.isEmpty && change.merged == running)
    }

    @Test func liveSettingsApplyAndBuiltOnesWaitForARestart() throws {
        let running = try SocfwConfig.parse(yaml: base, file: "/etc/socfw/socfwd.yaml")
        let new = try SocfwConfig.parse(yaml: """
            queues: { count: 4 }
            rules: /srv/rules.d
            default_action: DROP
            quarantine: { database: /tmp/other.db, allowlist: [192.0.2.0/24, 198.51.100.0/24], escalation: [1h, permanent] }
            signatures: { paths: [/etc/socfw/sig.d, /opt/et], quarantine: { sids: [1] }, stream: { depth_bytes: 0 } }
            detection: { scan: { ports: 50 } }
            """, file: "/etc/socfw/socfwd.yaml")
        let change = ConfigReload(running: running, new: new)
        #expect(change.applied == ["default_action", "signatures.paths", "signatures.quarantine", "quarantine.allowlist",
                                   "quarantine.escalation"])
        #expect(change.restartRequired == ["queues", "rules", "quarantine.database", "signatures.stream.depth_bytes",
                                           "detection"])
        // In force: the live ones; as they run: the others.
        #expect(change.merged.defaultAction == .drop && change.merged.signatures.quarantine.sids == [1])
        #expect(change.merged.quarantine.policy.allowlist.count == 2)
        #expect(change.merged.queues.count == 2 && change.merged.rulesPath == "/etc/socfw/rules.d")
        #expect(change.merged.quarantine.database == "/var/lib/socfw/socfw.db")
        #expect(change.merged.signatures.streamDepthBytes == running.signatures.streamDepthBytes)
    }

    @Test func everySettingIsEitherAppliedOrReported() throws {
        // Each of these differs from the defaults in one place; none may pass unnoticed.
        let edits = [
            "mode: bridge", "marks: { mask: 0xf0, reject: 0x10, bypass: 0x20 }", "nftables: { table: other }",
            "conntrack: { max_connections: 5000 }", "malformed_action: ALLOW", "eve: /tmp/eve.json", "log_level: debug",
            "control: { socket: /tmp/s.sock }", "quarantine: { minimum_prefix_v4: 24 }", "quarantine: { expiry_jitter: 5s }",
            "signatures: { enabled: false }", "signatures: { dialect: snort3 }", "signatures: { http: { body_inspect_bytes: 10 } }",
            "detection: { enabled: false }", "signatures: { address_vars: { HOME_NET: '[10.0.0.0/8]' } }",
        ]
        let running = SocfwConfig()
        for edit in edits {
            var new = try SocfwConfig.parse(yaml: edit, file: "x.yaml")
            new.sourceFile = running.sourceFile
            let change = ConfigReload(running: running, new: new)
            #expect(change.applied.count + change.restartRequired.count >= 1, "\(edit) went unnoticed")
            #expect(!change.restartRequired.contains("other settings"), "\(edit) is not named")
        }
    }
}
