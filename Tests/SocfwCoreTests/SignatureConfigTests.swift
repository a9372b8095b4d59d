import Foundation
import SocfwCore
import SocfwIDS
import SocfwWire
import Testing

@Suite struct SignatureConfigTests {
    @Test func theSignaturesSectionIsParsedWithPathsRelativeToTheFile() throws {
        let c = try SocfwConfig.parse(yaml: """
            signatures:
              default_set: false
              paths: [rules.d, /opt/et-open]
              dialect: snort3
              address_vars: { HOME_NET: "[10.0.0.0/8]" }
              port_vars: { HTTP_PORTS: "[80,8080]" }
              stream: { depth_bytes: 0, window_bytes: 4096, memcap_bytes: 33554432 }
              http: { body_inspect_bytes: 1024 }
            """, file: "/etc/socfw/socfwd.yaml")
        #expect(!c.signatures.defaultSet)
        #expect(c.signatures.paths == ["/etc/socfw/rules.d", "/opt/et-open"])
        #expect(c.signatures.dialect == "snort3")
        #expect(c.signatures.addressVariables == ["HOME_NET": "[10.0.0.0/8]"])
        #expect(c.signatures.inspectionConfig.stream.windowBytes == 4096)
        #expect(c.signatures.inspectionConfig.http.bodyInspectBytes == 1024)
    }

    @Test(arguments: [
        ("signatures: { colour: red }", "unknown key 'colour'"),
        ("signatures: { address_vars: { home_net: any } }", "variable names are upper-case"),
        ("signatures: { dialect: snort2 }", "unknown dialect 'snort2'"),
        ("signatures: { stream: { window_bytes: 10 } }", "out of range"),
        ("signatures: { quarantine: { sids: [0] } }", "out of range"),
        ("signatures: { quarantine: { duration: permanent } }", "a signature quarantines for a set time"),
        ("signatures: { quarantine: { duration: soon } }", "'soon' is not a duration"),
        ("signatures: { quarantine: { blocking_priority: 0 } }", "out of range"),
        ("signatures: { quarantine: { sid: [1] } }", "unknown key 'sid'"),
    ])
    func badValuesAreRefusedWithTheField(yaml: String, message: String) {
        #expect(throws: ConfigError.self) { try SocfwConfig.parse(yaml: yaml, file: "x.yaml") }
        do {
            _ = try SocfwConfig.parse(yaml: yaml, file: "x.yaml")
        } catch {
            #expect(error.description.contains(message), "\(error)")
        }
    }

    @Test func signatureHitsQuarantineTheFlowsClient() throws {
        let c = try SocfwConfig.parse(yaml: """
            signatures:
              quarantine: { sids: [9000041, 2019401], blocking_priority: 1, duration: 2h }
            """, file: "x.yaml").signatures.quarantine
        #expect(c.sids == [9000041, 2019401] && c.blockingPriority == 1 && c.seconds == 7200 && c.isEnabled)
        #expect(!SignatureQuarantine().isEnabled)
        var packet = PacketSummary()
        packet.source = IPAddress("198.51.100.7")!
        packet.destination = IPAddress("10.0.0.5")!
        // A listed sid, alert only: its client (the source of a request).
        #expect(c.target(sid: 9000041, priority: 3, blocked: false, packet: packet, toServer: true) == packet.source)
        // Found in a reply: the client is the reply's destination.
        #expect(c.target(sid: 9000041, priority: 3, blocked: false, packet: packet, toServer: false) == packet.destination)
        // Untracked: the packet's source.
        #expect(c.target(sid: 2019401, priority: 2, blocked: true, packet: packet, toServer: nil) == packet.source)
        // Not listed: only a blocking hit of priority 1.
        #expect(c.target(sid: 7, priority: 1, blocked: true, packet: packet, toServer: true) == packet.source)
        #expect(c.target(sid: 7, priority: 1, blocked: false, packet: packet, toServer: true) == nil)
        #expect(c.target(sid: 7, priority: 2, blocked: true, packet: packet, toServer: true) == nil)
    }

    func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "socfw-sig-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func aDirectoryOfRulesAndSeedsLoadsWithAReport() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            alert http any any -> any any (msg:"admin"; http.uri; content:"/admin"; sid:8000001; rev:2;)
            alert tcp any any -> any any (msg:"unsupported"; byte_test:1,>,2,0; sid:8000002;)
            alert dns any any -> any any (msg:"dns"; dns.query; content:"x"; sid:8000003;)
            """.write(toFile: dir + "/local.rules", atomically: true, encoding: .utf8)
        try """
            signatures:
              - { id: 9100001, name: "corp secret", pattern: "corp-secret", pattern_type: exact, protocol: [tcp] }
            """.write(toFile: dir + "/corp.yaml", atomically: true, encoding: .utf8)
        var c = SignatureConfig()
        c.defaultSet = false
        c.paths = [dir]
        let load = try SignatureLoader.load(c).get()
        #expect(load.set.count == 2)
        #expect(load.report.rules.rulesSeen == 3)
        #expect(load.report.rules.loaded == 1)
        #expect(load.report.skippedByKeyword == ["byte_test": 1, "protocol dns": 1])
        #expect(load.report.seedSignatures == 1)
        #expect(load.report.json.contains("\"skipped_per_keyword\":{\"byte_test\":1,\"protocol dns\":1}"))
    }

    @Test func aBadSeedFileRefusesTheLoadWithFileLineAndField() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            signatures:
              - id: 9100001
                name: ok
                pattern: 'a(b'
            """.write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        var c = SignatureConfig()
        c.paths = [dir + "/bad.yaml"]
        guard case .failure(let error) = SignatureLoader.load(c) else {
            Issue.record("a bad regex loaded")
            return
        }
        #expect(error.file.hasSuffix("bad.yaml") && error.line == 4 && error.field.hasSuffix("pattern"), "\(error)")
        #expect(error.message.contains("invalid regular expression"))
        c.paths = [dir + "/missing.rules"]
        guard case .failure(let missing) = SignatureLoader.load(c) else {
            Issue.record("a missing path loaded")
            return
        }
        #expect(missing.description.contains("no such file"))
    }

    @Test func aSeedIdUsedTwiceIsRefused() throws {
        let yaml = """
            signatures:
              - { id: 1, name: a, pattern: x, pattern_type: exact }
              - { id: 1, name: b, pattern: y, pattern_type: exact }
            """
        #expect(throws: ConfigError.self) { try SeedSignatureLoader.parse(yaml: yaml, file: "s.yaml") }
    }
}
