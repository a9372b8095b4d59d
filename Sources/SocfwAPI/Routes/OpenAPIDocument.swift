// Generated from Docs/openapi.yaml by Scripts/embed-openapi; do not edit.
// A test (OpenAPITests) checks that the two are the same.
public enum OpenAPIDocument {
    public static let yaml = #"""
# socfw-api's HTTP contract (OpenAPI 3.1). Served at /api/v1/openapi.yaml;
# Scripts/embed-openapi copies it into Sources/SocfwAPI/Routes/OpenAPIDocument.swift
# (a test checks the two are the same).
openapi: 3.1.0
info:
  title: socfw-api
  version: 1.0.0
  description: 'The management-plane HTTP API of socfw, a client of socfwd''s control socket (Docs/api.md, Docs/control-protocol.md).
    Every error is RFC 9457 `application/problem+json`. Objects that come from socfwd are passed through unchanged: their
    schemas name the known fields and allow more.'
servers:
- url: https://127.0.0.1:8443
  description: The default listen address
security:
- bearer: []
tags:
- name: health
- name: meta
- name: status
- name: rules
- name: alerts
- name: quarantine
- name: connections
- name: signatures
- name: config
- name: tokens
- name: stream
paths:
  /health:
    get:
      operationId: health
      summary: 'Liveness: the process serves'
      tags:
      - health
      security: []
      responses:
        '200':
          description: Serving
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Health'
        '400':
          $ref: '#/components/responses/BadRequest'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        default:
          $ref: '#/components/responses/Problem'
  /ready:
    get:
      operationId: ready
      summary: 'Readiness: socfwd reachable, queues bound, database, disk, memory'
      tags:
      - health
      security: []
      responses:
        '200':
          description: Ready
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Readiness'
        '503':
          description: Not ready (the checks say why)
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Readiness'
        '400':
          $ref: '#/components/responses/BadRequest'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        default:
          $ref: '#/components/responses/Problem'
  /metrics:
    get:
      operationId: metrics
      summary: Prometheus metrics (text exposition format 0.0.4)
      tags:
      - health
      security: []
      responses:
        '200':
          description: Metrics
          content:
            text/plain:
              schema:
                type: string
        '400':
          $ref: '#/components/responses/BadRequest'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/openapi.yaml:
    get:
      operationId: openapi
      summary: This document
      tags:
      - meta
      security: []
      responses:
        '200':
          description: OpenAPI 3.1 document
          content:
            application/yaml:
              schema:
                type: string
        '400':
          $ref: '#/components/responses/BadRequest'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/status:
    get:
      operationId: getStatus
      summary: socfwd's status (control method `status`)
      tags:
      - status
      description: 'Scope: `read`.'
      x-socfw-scope: read
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Status'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/stats:
    get:
      operationId: getStats
      summary: Packet, verdict, flow and per-queue counters (control method `stats`)
      tags:
      - status
      description: 'Scope: `read`.'
      x-socfw-scope: read
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Stats'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/rules:
    get:
      operationId: listRules
      summary: Every rule with its hits (`rules.list`)
      tags:
      - rules
      description: 'Scope: `read`.'
      x-socfw-scope: read
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/RuleList'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
    post:
      operationId: createRule
      summary: Add a rule to the managed rules file and apply it (`rules.add`)
      tags:
      - rules
      description: 'Scope: `admin`.'
      x-socfw-scope: admin
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/RuleInput'
      responses:
        '201':
          description: Created
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/ReloadResult'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '413':
          $ref: '#/components/responses/TooLarge'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/rules/{name}:
    get:
      operationId: getRule
      summary: One rule (`rules.get`)
      tags:
      - rules
      description: 'Scope: `read`.'
      x-socfw-scope: read
      parameters:
      - name: name
        in: path
        required: true
        description: The rule's name.
        schema:
          $ref: '#/components/schemas/RuleName'
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Rule'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
    put:
      operationId: updateRule
      summary: Replace a rule (`rules.update`); the body's name defaults to the path's
      tags:
      - rules
      description: 'Scope: `admin`.'
      x-socfw-scope: admin
      parameters:
      - name: name
        in: path
        required: true
        description: The rule's name.
        schema:
          $ref: '#/components/schemas/RuleName'
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/RuleUpdate'
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/ReloadResult'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '413':
          $ref: '#/components/responses/TooLarge'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
    delete:
      operationId: deleteRule
      summary: Delete a rule (`rules.delete`)
      tags:
      - rules
      description: 'Scope: `admin`.'
      x-socfw-scope: admin
      parameters:
      - name: name
        in: path
        required: true
        description: The rule's name.
        schema:
          $ref: '#/components/schemas/RuleName'
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/ReloadResult'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/rules/{name}/enable:
    post:
      operationId: enableRule
      summary: Enable a rule (`rules.enable`)
      tags:
      - rules
      description: 'Scope: `operate`.'
      x-socfw-scope: operate
      parameters:
      - name: name
        in: path
        required: true
        description: The rule's name.
        schema:
          $ref: '#/components/schemas/RuleName'
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/ReloadResult'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/rules/{name}/disable:
    post:
      operationId: disableRule
      summary: Disable a rule (`rules.disable`)
      tags:
      - rules
      description: 'Scope: `operate`.'
      x-socfw-scope: operate
      parameters:
      - name: name
        in: path
        required: true
        description: The rule's name.
        schema:
          $ref: '#/components/schemas/RuleName'
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/ReloadResult'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/alerts:
    get:
      operationId: listAlerts
      summary: Alerts, newest first (`alerts.list`)
      tags:
      - alerts
      description: 'Scope: `read`.'
      x-socfw-scope: read
      parameters:
      - name: limit
        in: query
        required: false
        description: At most this many alerts.
        schema:
          type: integer
          minimum: 1
          maximum: 10000
          default: 50
      - name: cursor
        in: query
        required: false
        description: Continue after a previous answer's `next_cursor`.
        schema:
          type: string
          pattern: ^[A-Za-z0-9._:-]{1,128}$
          minLength: 1
          maxLength: 128
      - name: open
        in: query
        required: false
        description: Only alerts not yet acknowledged.
        schema:
          type: boolean
      - name: since
        in: query
        required: false
        description: RFC 3339; only alerts at or after this time (sent as `since_ns`).
        schema:
          type: string
          format: date-time
      - name: until
        in: query
        required: false
        description: RFC 3339; only alerts at or before this time (sent as `until_ns`); before `since` gives an empty list.
        schema:
          type: string
          format: date-time
      - name: severity
        in: query
        required: false
        description: Only this severity, Suricata's scale (1 high, 2 medium, 3 low).
        schema:
          type: integer
          minimum: 1
          maximum: 3
      - name: source
        in: query
        required: false
        description: Only alerts from rules, signatures, behavioural detectors or protocol anomalies.
        schema:
          type: string
          enum:
          - rule
          - signature
          - detector
          - anomaly
      - name: sid
        in: query
        required: false
        description: Only this signature id.
        schema:
          type: integer
          minimum: 1
          maximum: 4294967295
      - name: address
        in: query
        required: false
        description: Only alerts whose source or destination is this address (not a prefix; alerts keep addresses as text).
        schema:
          type: string
          minLength: 2
          maxLength: 49
          pattern: ^(((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])|(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,7}:|([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,5}(:[0-9A-Fa-f]{1,4}){1,2}|([0-9A-Fa-f]{1,4}:){1,4}(:[0-9A-Fa-f]{1,4}){1,3}|([0-9A-Fa-f]{1,4}:){1,3}(:[0-9A-Fa-f]{1,4}){1,4}|([0-9A-Fa-f]{1,4}:){1,2}(:[0-9A-Fa-f]{1,4}){1,5}|[0-9A-Fa-f]{1,4}:(:[0-9A-Fa-f]{1,4}){1,6}|:((:[0-9A-Fa-f]{1,4}){1,7}|:)|::([Ff]{4}(:0{1,4})?:)?((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])|([0-9A-Fa-f]{1,4}:){1,4}:((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])))$
          description: An IPv4 or IPv6 address (`192.0.2.7`, `2001:db8::7`).
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/AlertList'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/alerts/{id}/ack:
    post:
      operationId: acknowledgeAlert
      summary: Acknowledge an alert (`alerts.ack`)
      tags:
      - alerts
      description: 'Scope: `operate`.'
      x-socfw-scope: operate
      parameters:
      - name: id
        in: path
        required: true
        description: The alert's id.
        schema:
          type: integer
          minimum: 1
          format: int64
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Alert'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/quarantine:
    get:
      operationId: listQuarantine
      summary: Active quarantine entries, newest first (`quarantine.list`)
      tags:
      - quarantine
      description: 'Scope: `read`.'
      x-socfw-scope: read
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/QuarantineList'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
    post:
      operationId: addQuarantine
      summary: Quarantine an address or prefix (`quarantine.add`)
      tags:
      - quarantine
      description: 'Scope: `operate`.'
      x-socfw-scope: operate
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/QuarantineInput'
      responses:
        '201':
          description: Created
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/QuarantineEntry'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '413':
          $ref: '#/components/responses/TooLarge'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/quarantine/history:
    get:
      operationId: quarantineHistory
      summary: Quarantine rows past and present (`quarantine.history`)
      tags:
      - quarantine
      description: 'Scope: `read`.'
      x-socfw-scope: read
      parameters:
      - name: target
        in: query
        required: false
        description: Only this address or prefix.
        schema:
          type: string
          minLength: 2
          maxLength: 49
          pattern: ^(((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(/(3[0-2]|[12]?[0-9]))?|(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,7}:|([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,5}(:[0-9A-Fa-f]{1,4}){1,2}|([0-9A-Fa-f]{1,4}:){1,4}(:[0-9A-Fa-f]{1,4}){1,3}|([0-9A-Fa-f]{1,4}:){1,3}(:[0-9A-Fa-f]{1,4}){1,4}|([0-9A-Fa-f]{1,4}:){1,2}(:[0-9A-Fa-f]{1,4}){1,5}|[0-9A-Fa-f]{1,4}:(:[0-9A-Fa-f]{1,4}){1,6}|:((:[0-9A-Fa-f]{1,4}){1,7}|:)|::([Ff]{4}(:0{1,4})?:)?((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])|([0-9A-Fa-f]{1,4}:){1,4}:((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$
          description: An IPv4 or IPv6 address, or a prefix (`10.0.0.0/24`, `2001:db8::/32`).
      - name: limit
        in: query
        required: false
        description: At most this many rows.
        schema:
          type: integer
          minimum: 1
          maximum: 10000
          default: 50
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/QuarantineHistory'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/quarantine/{target}:
    delete:
      operationId: removeQuarantine
      summary: Release an address or prefix (`quarantine.remove`)
      tags:
      - quarantine
      description: 'Scope: `operate`.'
      x-socfw-scope: operate
      parameters:
      - name: target
        in: path
        required: true
        description: 'The address or prefix, percent-encoded: `10.0.0.0%2F24`.'
        schema:
          type: string
          minLength: 2
          maxLength: 49
          pattern: ^(((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(/(3[0-2]|[12]?[0-9]))?|(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,7}:|([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,5}(:[0-9A-Fa-f]{1,4}){1,2}|([0-9A-Fa-f]{1,4}:){1,4}(:[0-9A-Fa-f]{1,4}){1,3}|([0-9A-Fa-f]{1,4}:){1,3}(:[0-9A-Fa-f]{1,4}){1,4}|([0-9A-Fa-f]{1,4}:){1,2}(:[0-9A-Fa-f]{1,4}){1,5}|[0-9A-Fa-f]{1,4}:(:[0-9A-Fa-f]{1,4}){1,6}|:((:[0-9A-Fa-f]{1,4}){1,7}|:)|::([Ff]{4}(:0{1,4})?:)?((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])|([0-9A-Fa-f]{1,4}:){1,4}:((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$
          description: An IPv4 or IPv6 address, or a prefix (`10.0.0.0/24`, `2001:db8::/32`).
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/QuarantineEntry'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/connections:
    get:
      operationId: listConnections
      summary: Tracked connections, largest first (`conns.list`)
      tags:
      - connections
      description: 'Scope: `read`.'
      x-socfw-scope: read
      parameters:
      - name: address
        in: query
        required: false
        description: Only connections from or to this address or prefix.
        schema:
          type: string
          minLength: 2
          maxLength: 49
          pattern: ^(((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(/(3[0-2]|[12]?[0-9]))?|(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,7}:|([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,5}(:[0-9A-Fa-f]{1,4}){1,2}|([0-9A-Fa-f]{1,4}:){1,4}(:[0-9A-Fa-f]{1,4}){1,3}|([0-9A-Fa-f]{1,4}:){1,3}(:[0-9A-Fa-f]{1,4}){1,4}|([0-9A-Fa-f]{1,4}:){1,2}(:[0-9A-Fa-f]{1,4}){1,5}|[0-9A-Fa-f]{1,4}:(:[0-9A-Fa-f]{1,4}){1,6}|:((:[0-9A-Fa-f]{1,4}){1,7}|:)|::([Ff]{4}(:0{1,4})?:)?((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])|([0-9A-Fa-f]{1,4}:){1,4}:((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$
          description: An IPv4 or IPv6 address, or a prefix (`10.0.0.0/24`, `2001:db8::/32`).
      - name: port
        in: query
        required: false
        description: Only connections with this source or destination port.
        schema:
          type: integer
          minimum: 0
          maximum: 65535
      - name: state
        in: query
        required: false
        description: Only this state (`ESTABLISHED`, `TIME_WAIT`, ..., any case).
        schema:
          type: string
          pattern: ^[A-Za-z_]{1,32}$
          minLength: 1
          maxLength: 32
      - name: protocol
        in: query
        required: false
        description: '`tcp`, `udp`, `icmp`, `icmpv6` or a protocol number.'
        schema:
          type: string
          pattern: ^(tcp|udp|icmp|icmpv6|25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$
      - name: limit
        in: query
        required: false
        description: At most this many connections.
        schema:
          type: integer
          minimum: 1
          maximum: 10000
          default: 50
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/ConnectionList'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/signatures:
    get:
      operationId: listSignatures
      summary: Loaded signatures in load order (`signatures.list`)
      tags:
      - signatures
      description: 'Scope: `read`.'
      x-socfw-scope: read
      parameters:
      - name: limit
        in: query
        required: false
        description: At most this many signatures.
        schema:
          type: integer
          minimum: 1
          maximum: 10000
          default: 100
      - name: offset
        in: query
        required: false
        description: Skip this many.
        schema:
          type: integer
          minimum: 0
          maximum: 2147483647
          default: 0
      - name: sid
        in: query
        required: false
        description: Only this signature id.
        schema:
          type: integer
          minimum: 1
          maximum: 4294967295
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/SignatureList'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/signatures/stats:
    get:
      operationId: signatureStats
      summary: Signature matches and the most matched (`signatures.stats`)
      tags:
      - signatures
      description: 'Scope: `read`.'
      x-socfw-scope: read
      parameters:
      - name: top
        in: query
        required: false
        description: How many of the most matched.
        schema:
          type: integer
          minimum: 1
          maximum: 1000
          default: 20
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/SignatureStats'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/config/check:
    get:
      operationId: checkConfigGet
      summary: Check a configuration file without applying it (`config.check`)
      tags:
      - config
      description: 'Scope: `read`.'
      x-socfw-scope: read
      parameters:
      - name: path
        in: query
        required: false
        description: The file to check; socfwd's own configuration when left out.
        schema:
          type: string
          maxLength: 4096
          pattern: ^(/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)*/[A-Za-z0-9_+-][A-Za-z0-9._+-]*\.ya?ml$
          description: An absolute path to a .yaml/.yml file; no segment starts with a dot.
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/ConfigCheck'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
    post:
      operationId: checkConfigPost
      summary: Check a configuration file without applying it (`config.check`)
      tags:
      - config
      description: 'Scope: `read`.'
      x-socfw-scope: read
      requestBody:
        required: false
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/ConfigCheckInput'
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/ConfigCheck'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '413':
          $ref: '#/components/responses/TooLarge'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/reload:
    post:
      operationId: reload
      summary: Reload rules and signatures (`reload`)
      tags:
      - config
      description: 'Scope: `admin`.'
      x-socfw-scope: admin
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/ReloadResult'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/tokens:
    get:
      operationId: listTokens
      summary: API tokens, without their hashes (`tokens.list`)
      tags:
      - tokens
      description: 'Scope: `admin`.'
      x-socfw-scope: admin
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/TokenList'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
    post:
      operationId: createToken
      summary: Create a token; its secret is in this answer only (`tokens.create`)
      tags:
      - tokens
      description: 'Scope: `admin`.'
      x-socfw-scope: admin
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/TokenInput'
      responses:
        '201':
          description: Created
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/NewToken'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '413':
          $ref: '#/components/responses/TooLarge'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/tokens/{name}:
    delete:
      operationId: revokeToken
      summary: Revoke a token (`tokens.revoke`)
      tags:
      - tokens
      description: 'Scope: `admin`.'
      x-socfw-scope: admin
      parameters:
      - name: name
        in: path
        required: true
        description: The token's name.
        schema:
          $ref: '#/components/schemas/TokenName'
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Token'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '404':
          $ref: '#/components/responses/NotFound'
        '409':
          $ref: '#/components/responses/Conflict'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '501':
          $ref: '#/components/responses/NotImplemented'
        '502':
          $ref: '#/components/responses/BadGateway'
        '503':
          $ref: '#/components/responses/Unavailable'
        '504':
          $ref: '#/components/responses/GatewayTimeout'
        default:
          $ref: '#/components/responses/Problem'
  /api/v1/stream:
    get:
      operationId: stream
      summary: WebSocket event stream (see Docs/api.md, "WebSocket")
      tags:
      - stream
      description: 'Upgrade to a WebSocket (RFC 6455). Authenticate with `Authorization: Bearer` or, from a browser, the subprotocols
        `socfw.v1, bearer.<token>`. Client messages: `{"subscribe":[topics]}`, `{"unsubscribe":[topics]}`; events: `{"topic":"alerts","data":{...}}`.
        Topics: alerts, quarantine, stats, reloads, incidents, packets.


        Scope: `read`.'
      x-socfw-scope: read
      responses:
        '101':
          description: Switching to the WebSocket protocol
        '200':
          description: 'Not an upgrade request: a description of the stream'
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/StreamInfo'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '403':
          $ref: '#/components/responses/Forbidden'
        '429':
          $ref: '#/components/responses/TooManyRequests'
        '503':
          $ref: '#/components/responses/Unavailable'
        default:
          $ref: '#/components/responses/Problem'
components:
  securitySchemes:
    bearer:
      type: http
      scheme: bearer
      bearerFormat: socfw_<43 base64url characters>
      description: 'Scopes: read (every GET), operate (rule enable/disable, quarantine add/remove, alert ack), admin (rule
        create/update/delete, reload, tokens); admin includes operate includes read.'
  schemas:
    Problem:
      type: object
      description: RFC 9457 problem details.
      additionalProperties: false
      required:
      - type
      - title
      - status
      - detail
      properties:
        type:
          type: string
          description: '`urn:socfw:problem:<kind>`: validation, unauthorized, forbidden, not-found, method-not-allowed, refused,
            rate-limited, socfwd-unreachable, socfwd-timeout, socfwd-limit, socfwd-permission-denied, socfwd-protocol, tokens-unavailable,
            not-implemented, too-large, cors-origin, internal, http-<status>.'
        title:
          type: string
        status:
          type: integer
          minimum: 100
          maximum: 599
        detail:
          type: string
        errors:
          type: array
          items:
            $ref: '#/components/schemas/FieldError'
    FieldError:
      type: object
      additionalProperties: false
      required:
      - pointer
      - detail
      properties:
        pointer:
          type: string
          description: 'JSON Pointer: `/rule/action` or `/target` into the body, `/query/<name>` for a query parameter, `/path/<name>`
            for a path parameter, empty for the whole body.'
        detail:
          type: string
    Health:
      type: object
      additionalProperties: false
      required:
      - status
      properties:
        status:
          type: string
          const: ok
    Readiness:
      type: object
      additionalProperties: false
      required:
      - status
      - checks
      properties:
        status:
          type: string
          enum:
          - ready
          - not_ready
        checks:
          type: array
          items:
            type: object
            additionalProperties: false
            required:
            - name
            - ok
            - detail
            properties:
              name:
                type: string
                enum:
                - socfwd
                - queues_bound
                - database_writable
                - disk_space
                - memory
              ok:
                type: boolean
              detail:
                type: string
              skipped:
                type: boolean
                description: Not evaluated; does not count.
    Status:
      type: object
      description: socfwd's `status` result, passed through.
      additionalProperties: true
      properties:
        version:
          type: string
        pid:
          type: integer
        uptime_s:
          type: integer
        inspecting:
          type: boolean
        mode:
          type: string
        diversion:
          type:
          - string
          - 'null'
        queues:
          type: object
        rules:
          type: object
        packets:
          type: integer
        verdicts:
          type: object
        pps:
          type: number
        flows_active:
          type: integer
        events_lost:
          type: integer
    Stats:
      type: object
      description: socfwd's `stats` result, passed through.
      additionalProperties: true
      properties:
        packets:
          type: integer
        bytes:
          type: integer
        accepted:
          type: integer
        dropped:
          type: integer
        rejected:
          type: integer
        malformed:
          type: integer
        events:
          type: integer
        events_lost:
          type: integer
        flows:
          type: object
        queues:
          type: array
          items:
            type: object
    RuleName:
      type: string
      pattern: ^[A-Za-z0-9._:@-]{1,128}$
      minLength: 1
      maxLength: 128
    Condition:
      type: object
      additionalProperties: false
      required:
      - field
      - operator
      - value
      properties:
        field:
          type: string
          minLength: 1
          maxLength: 64
          description: 'Docs/rules.md: src_ip, dst_port, protocol, ...'
        operator:
          type: string
          minLength: 1
          maxLength: 64
          description: eq, ne, in, cidr, gt, lt, ...
        value:
          oneOf:
          - type: string
            maxLength: 4096
          - type: array
            minItems: 1
            maxItems: 10000
            items:
              type: string
          description: 'As written in the YAML: a string or a list of strings.'
    RuleInput:
      type: object
      description: A rule as in the YAML rules files (Docs/rules.md); unknown keys are refused.
      additionalProperties: false
      required:
      - name
      - action
      properties:
        name:
          $ref: '#/components/schemas/RuleName'
        id:
          type: integer
          minimum: 1
          maximum: 4294967295
          description: 'EVE signature_id; default: a stable hash of the name.'
        action:
          type: string
          enum:
          - ALLOW
          - DROP
          - REJECT
          - LOG
          - ALERT
          - QUARANTINE
        priority:
          type: integer
          minimum: -2147483648
          maximum: 2147483647
          default: 0
        enabled:
          type: boolean
          default: true
        description:
          type: string
          minLength: 1
          maxLength: 1024
        conditions:
          type: array
          items:
            $ref: '#/components/schemas/Condition'
    RuleUpdate:
      type: object
      description: As RuleInput; `name` defaults to the path's.
      additionalProperties: false
      required:
      - action
      properties:
        name:
          $ref: '#/components/schemas/RuleName'
        id:
          type: integer
          minimum: 1
          maximum: 4294967295
          description: 'EVE signature_id; default: a stable hash of the name.'
        action:
          type: string
          enum:
          - ALLOW
          - DROP
          - REJECT
          - LOG
          - ALERT
          - QUARANTINE
        priority:
          type: integer
          minimum: -2147483648
          maximum: 2147483647
          default: 0
        enabled:
          type: boolean
          default: true
        description:
          type: string
          minLength: 1
          maxLength: 1024
        conditions:
          type: array
          items:
            $ref: '#/components/schemas/Condition'
    Rule:
      type: object
      description: A rule as socfwd reports it (`rules.get`).
      additionalProperties: true
      properties:
        name:
          type: string
        id:
          type: [integer, "null"]
          description: The rule's optional numeric id (null when the file gives none).
        action:
          type: string
        priority:
          type: integer
        enabled:
          type: boolean
        description:
          type: [string, "null"]
        conditions:
          type: array
          items:
            type: object
            additionalProperties: true
            properties:
              field:
                type: string
              operator:
                type: string
              value:
                oneOf:
                - type: string
                - type: array
                  items:
                    type: string
        file:
          type: string
        origin:
          type: string
          description: file:line where the rule is defined.
        managed:
          type: boolean
          description: The rule lives in the managed file (rules changed through socfwctl or the API).
        hits:
          type: object
          additionalProperties: true
          properties:
            packets:
              type: integer
            bytes:
              type: integer
            last_hit_ns:
              type: integer
      required:
      - name
      - action
      - priority
      - enabled
      - conditions
    RuleList:
      type: object
      description: '`rules.list`.'
      additionalProperties: true
      properties:
        rules:
          type: array
          items:
            $ref: '#/components/schemas/Rule'
      required:
      - rules
    ReloadResult:
      type: object
      description: The rules (and signatures) after the change, as `reload` reports them.
      additionalProperties: true
      properties:
        loaded:
          type: integer
        enabled:
          type: integer
        parse_ms:
          type: number
        compile_ms:
          type: number
        generation:
          type: integer
        signatures:
          type: object
    Alert:
      type: object
      description: An alert (`alerts.list`, `alerts.ack`).
      additionalProperties: true
      properties:
        id:
          type: integer
        timestamp_ns:
          type: integer
        acknowledged_by: {}
        acknowledged_at_ns: {}
        eve:
          description: The EVE alert record.
    AlertList:
      type: object
      description: '`alerts.list`, with a cursor for the next page.'
      additionalProperties: true
      properties:
        alerts:
          type: array
          items:
            $ref: '#/components/schemas/Alert'
        kept:
          type: integer
        capacity:
          type: integer
        next_cursor:
          type:
          - string
          - 'null'
          description: Pass as `cursor` for the next page; null on the last page.
      required:
      - alerts
      - next_cursor
    QuarantineEntry:
      type: object
      description: A quarantine row (Docs/quarantine.md).
      additionalProperties: true
      properties:
        id:
          type: integer
        target:
          type: string
        reason: {}
        action: {}
        source: {}
        timestamp_ns:
          type: integer
        expires_ns: {}
        active:
          type: boolean
        offence: {}
    QuarantineList:
      type: object
      description: '`quarantine.list`.'
      additionalProperties: true
      properties:
        quarantined:
          type: array
          items:
            $ref: '#/components/schemas/QuarantineEntry'
      required:
      - quarantined
    QuarantineHistory:
      type: object
      description: '`quarantine.history`.'
      additionalProperties: true
      properties:
        history:
          type: array
          items:
            $ref: '#/components/schemas/QuarantineEntry'
      required:
      - history
    QuarantineInput:
      type: object
      additionalProperties: false
      required:
      - target
      properties:
        target:
          type: string
          minLength: 2
          maxLength: 49
          pattern: ^(((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(/(3[0-2]|[12]?[0-9]))?|(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,7}:|([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,5}(:[0-9A-Fa-f]{1,4}){1,2}|([0-9A-Fa-f]{1,4}:){1,4}(:[0-9A-Fa-f]{1,4}){1,3}|([0-9A-Fa-f]{1,4}:){1,3}(:[0-9A-Fa-f]{1,4}){1,4}|([0-9A-Fa-f]{1,4}:){1,2}(:[0-9A-Fa-f]{1,4}){1,5}|[0-9A-Fa-f]{1,4}:(:[0-9A-Fa-f]{1,4}){1,6}|:((:[0-9A-Fa-f]{1,4}){1,7}|:)|::([Ff]{4}(:0{1,4})?:)?((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])|([0-9A-Fa-f]{1,4}:){1,4}:((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$
          description: An IPv4 or IPv6 address, or a prefix (`10.0.0.0/24`, `2001:db8::/32`).
        duration:
          type: string
          pattern: ^([1-9][0-9]{0,8}[smhdw]|permanent)$
          description: '`90s`, `15m`, `1h`, `2d`, `1w` or `permanent`; default: socfwd''s escalation ladder.'
        reason:
          type: string
          minLength: 1
          maxLength: 256
        description:
          type: string
          minLength: 1
          maxLength: 4096
    ConnectionList:
      type: object
      description: '`conns.list` (EVE field names).'
      additionalProperties: true
      properties:
        connections:
          type: array
          items:
            type: object
      required:
      - connections
    SignatureList:
      type: object
      description: '`signatures.list`.'
      additionalProperties: true
      properties:
        total:
          type: integer
        signatures:
          type: array
          items:
            type: object
    SignatureStats:
      type: object
      description: '`signatures.stats`.'
      additionalProperties: true
      properties:
        active:
          type: integer
        matches:
          type: integer
        top:
          type: array
    ConfigCheck:
      type: object
      description: '`config.check`.'
      additionalProperties: true
      properties:
        ok:
          type: boolean
        rules:
          type: integer
        enabled:
          type: integer
        rules_path: {}
    ConfigCheckInput:
      type: object
      additionalProperties: false
      properties:
        path:
          type: string
          maxLength: 4096
          pattern: ^(/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)*/[A-Za-z0-9_+-][A-Za-z0-9._+-]*\.ya?ml$
          description: An absolute path to a .yaml/.yml file; no segment starts with a dot.
    TokenName:
      type: string
      pattern: ^[A-Za-z0-9._-]{1,64}$
      minLength: 1
      maxLength: 64
    Token:
      type: object
      description: A token's public description (never its hash).
      additionalProperties: true
      properties:
        name:
          type: string
        scopes:
          type: array
          items:
            type: string
        created_ns: {}
        revoked_ns: {}
    TokenList:
      type: object
      description: '`tokens.list`.'
      additionalProperties: true
      properties:
        tokens:
          type: array
          items:
            $ref: '#/components/schemas/Token'
      required:
      - tokens
    TokenInput:
      type: object
      additionalProperties: false
      required:
      - name
      - scopes
      properties:
        name:
          $ref: '#/components/schemas/TokenName'
        scopes:
          type: array
          minItems: 1
          items:
            type: string
            enum:
            - read
            - operate
            - admin
          description: admin includes operate, which includes read.
    StreamInfo:
      type: object
      additionalProperties: false
      required:
      - websocket
      - subprotocol
      - topics
      - queue
      - ping_interval_s
      properties:
        websocket:
          type: string
          description: The path to upgrade.
        subprotocol:
          type: string
          const: socfw.v1
        topics:
          type: array
          items:
            type: string
            enum:
            - alerts
            - quarantine
            - stats
            - reloads
            - incidents
            - packets
        queue:
          type: integer
          minimum: 1
          description: Events queued per client before it is closed with 1008.
        ping_interval_s:
          type: number
          description: Ping period; a peer that does not answer is closed.
    NewToken:
      type: object
      description: 'A created token: `token` is the secret, shown once.'
      additionalProperties: true
      properties:
        name:
          type: string
        scopes:
          type: array
          items:
            type: string
        token:
          type: string
          pattern: ^socfw_[A-Za-z0-9_-]{43}$
        created_ns: {}
  responses:
    BadRequest:
      description: Invalid input (`errors` names each field), or a token in the query string.
      content:
        application/problem+json:
          schema:
            $ref: '#/components/schemas/Problem'
    Unauthorized:
      description: Missing, malformed, unknown or revoked token.
      content:
        application/problem+json:
          schema:
            $ref: '#/components/schemas/Problem'
      headers:
        WWW-Authenticate:
          required: true
          schema:
            type: string
          description: '`Bearer realm="socfw-api"`'
    Forbidden:
      description: The token lacks the scope, socfwd refused socfw-api's own permissions, or a CORS preflight from another
        origin.
      content:
        application/problem+json:
          schema:
            $ref: '#/components/schemas/Problem'
    NotFound:
      description: No such route, or socfwd says the named thing does not exist.
      content:
        application/problem+json:
          schema:
            $ref: '#/components/schemas/Problem'
    MethodNotAllowed:
      description: The path exists, the method does not.
      content:
        application/problem+json:
          schema:
            $ref: '#/components/schemas/Problem'
      headers:
        Allow:
          required: true
          schema:
            type: string
    Conflict:
      description: 'socfwd refused the operation in the current state (-32002): already acknowledged, a rules file error,
        a quarantine refused...'
      content:
        application/problem+json:
          schema:
            $ref: '#/components/schemas/Problem'
    TooLarge:
      description: The body is larger than 1 MiB.
      content:
        application/problem+json:
          schema:
            $ref: '#/components/schemas/Problem'
    TooManyRequests:
      description: Rate limited (per token or per address).
      content:
        application/problem+json:
          schema:
            $ref: '#/components/schemas/Problem'
      headers:
        Retry-After:
          required: true
          schema:
            type: string
            pattern: ^[0-9]+$
          description: Seconds.
    NotImplemented:
      description: This socfwd does not implement the control method.
      content:
        application/problem+json:
          schema:
            $ref: '#/components/schemas/Problem'
    BadGateway:
      description: socfwd answered something socfw-api could not use.
      content:
        application/problem+json:
          schema:
            $ref: '#/components/schemas/Problem'
    Unavailable:
      description: socfwd is not reachable (socfw-api reconnects by itself), or socfwd's limits were hit.
      content:
        application/problem+json:
          schema:
            $ref: '#/components/schemas/Problem'
      headers:
        Retry-After:
          required: false
          schema:
            type: string
            pattern: ^[0-9]+$
    GatewayTimeout:
      description: socfwd did not answer in time.
      content:
        application/problem+json:
          schema:
            $ref: '#/components/schemas/Problem'
    Problem:
      description: Any other error, as problem+json.
      content:
        application/problem+json:
          schema:
            $ref: '#/components/schemas/Problem'
"""#
}
