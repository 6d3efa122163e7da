import Foundation

/// A parsed `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.
struct AuthChallenge: Equatable, Sendable {
    /// Lowercased: `bearer` or `basic`.
    var scheme: String
    /// Parameter names lowercased; values unquoted.
    var parameters: [String: String]

    /// Parses one challenge; `nil` when the header has no scheme.
    init?(header: String) {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " ") ?? (trimmed.isEmpty ? nil : trimmed.endIndex) else { return nil }
        scheme = trimmed[..<space].lowercased()
        parameters = [:]
        var rest = trimmed[space...]
        while true {
            rest = rest.drop(while: { $0 == " " || $0 == "," })
            guard let equals = rest.firstIndex(of: "=") else { break }
            let name = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        value.append(character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        value.append(character)
                    }
                }
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            parameters[name] = value
        }
    }
}

extension RegistryClient {
    /// The answer of a token server.
    struct TokenAnswer: Decodable {
        var token: String?
        var accessToken: String?
        var expiresIn: Int?

        enum CodingKeys: String, CodingKey {
            case token
            case accessToken = "access_token"
            case expiresIn = "expires_in"
        }
    }

    /// Answers a 401 challenge and caches the result for the registry and scope.
    ///
    /// Bearer: asks the realm for a token for the challenge's service and scope, sending Basic
    /// credentials when the Docker config has some. Basic: sends the configured credentials.
    ///
    /// - Returns: the `Authorization` header value.
    /// - Throws: `RegistryError.unauthorized` (no usable credentials or the token server
    ///   refused), `.unsupportedChallenge`, `.invalidDocument` for a token answer that does not parse.
    func authenticate(challenge header: String?, reference: ImageReference, scope: String) async throws -> Secret {
        let registry = reference.registry
        guard let header, let challenge = AuthChallenge(header: header) else {
            throw RegistryError.unauthorized(registry: registry, scope: scope)
        }
        let credential = try await configuration.credentials.credential(for: registry)
        switch challenge.scheme {
        case "basic":
            guard let credential else { throw RegistryError.unauthorized(registry: registry, scope: scope) }
            let authorization = credential.basicAuthorization
            await tokens.store(authorization, registry: registry, scope: scope, lifetime: nil)
            return authorization
        case "bearer":
            guard let realm = challenge.parameters["realm"] else {
                throw RegistryError.unsupportedChallenge(registry: registry, challenge: header)
            }
            var components = try checkedRealm(realm, reference: reference, sendsCredentials: credential != nil)
            var query = components.queryItems ?? []
            if let service = challenge.parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
            query.append(URLQueryItem(name: "scope", value: challenge.parameters["scope"] ?? scope))
            components.queryItems = query
            guard let url = components.string else {
                throw RegistryError.unsupportedChallenge(registry: registry, challenge: header)
            }
            var request = HTTPRequest(url: url, timeout: configuration.resolveTimeout, maxBodySize: Int64(Self.documentLimit))
            if let credential { request.headers.append("Authorization: \(credential.basicAuthorization.value)") }
            let sink = BufferSink(limit: Self.documentLimit, url: url)
            let response = try await transfer(request, registry: registry, sink: sink)
            switch response.status {
            case 200..<300: break
            case 401, 403: throw RegistryError.unauthorized(registry: registry, scope: scope)
            default:
                throw RegistryError.from(
                    status: response.status, body: response.errorBody, url: url, reference: reference, digest: nil,
                    scope: scope, retryAfter: RegistryError.parseRetryAfter(response.header("retry-after")))
            }
            guard let answer = try? JSONDecoder().decode(TokenAnswer.self, from: sink.data),
                let token = answer.token ?? answer.accessToken, !token.isEmpty
            else {
                throw RegistryError.invalidDocument(url: url, reason: "token answer has no token")
            }
            let authorization = Secret("Bearer " + token)
            // The distribution spec: a token without expires_in lives 60 seconds. The number
            // comes from the server: clamp it to 1 s ... 1 day.
            let lifetime = Duration.seconds(min(max(answer.expiresIn ?? 60, 1), 86_400))
            await tokens.store(authorization, registry: registry, scope: scope, lifetime: lifetime)
            return authorization
        default:
            throw RegistryError.unsupportedChallenge(registry: registry, challenge: header)
        }
    }

    // MARK: - Realm

    /// The realm of a Bearer challenge, if image-worker may ask it for a token.
    ///
    /// The registry chooses the realm, so it is untrusted: it must be an absolute `https` URL
    /// with a host, or `http` when the registry itself is allowed insecure (plain HTTP). Plain
    /// HTTP to a host other than the registry's is refused when credentials would go with the
    /// request, so Basic credentials never cross the network in clear text to a third host.
    /// The transfer is restricted to the same schemes (``TransferOptions/protocols``), which
    /// also covers the realm's redirects.
    ///
    /// - Throws: `RegistryError.refusedRealm` naming the realm (permanent).
    func checkedRealm(_ realm: String, reference: ImageReference, sendsCredentials: Bool) throws(RegistryError)
        -> URLComponents
    {
        let registry = reference.registry
        func refuse(_ reason: String) -> RegistryError {
            .refusedRealm(registry: registry, realm: realm, reason: reason)
        }
        guard let components = URLComponents(string: realm), let scheme = components.scheme?.lowercased() else {
            throw refuse("not an absolute url")
        }
        let registryScheme = configuration.scheme(for: registry)
        switch scheme {
        case "https": break
        case "http" where registryScheme == "http": break
        case "http": throw refuse("an https registry's token realm must be https")
        default: throw refuse("scheme \(scheme) is not http or https")
        }
        guard let host = components.host?.lowercased(), !host.isEmpty else { throw refuse("the url has no host") }
        let registryHost = RegistryConfiguration.host(of: reference.apiHost.lowercased())
        if scheme == "http", sendsCredentials, host.trimmingCharacters(in: ["[", "]"]) != registryHost {
            throw refuse(
                "plain http to \(host), another host than the registry's, would carry its credentials in clear text")
        }
        return components
    }
}
