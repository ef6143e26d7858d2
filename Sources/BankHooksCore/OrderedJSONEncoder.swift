import Foundation

/// Encodes an `Encodable` value (a catalog model) to compact JSON with its members in the order
/// the value encodes them, the order the providers print them (Foundation's `JSONEncoder` on
/// Linux orders members by hash). Strings are escaped like every other JSON BankHooks writes
/// (`JSONWriter.appendString`); a nil written with `encode` is `null`, one left out with
/// `encodeIfPresent` is left out, as `JSONEncoder` does.
public enum OrderedJSONEncoder {
    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        let root = Node()
        try value.encode(to: NodeEncoder(node: root, codingPath: []))
        var out: [UInt8] = []
        try root.write(to: &out, codingPath: [])
        return out
    }
}

/// One JSON value being built; containers fill it in as the value encodes itself.
private final class Node {
    enum Content {
        case empty
        case scalar([UInt8])
        case object([(key: String, node: Node)])
        case array([Node])
    }

    var content: Content = .empty

    func write(to out: inout [UInt8], codingPath: [any CodingKey]) throws {
        switch content {
        case .empty:
            throw EncodingError.invalidValue(
                Optional<Int>.none as Any, .init(codingPath: codingPath, debugDescription: "a value encoded nothing"))
        case .scalar(let bytes):
            out.append(contentsOf: bytes)
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.appendString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                try member.node.write(to: &out, codingPath: codingPath)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                try element.write(to: &out, codingPath: codingPath)
            }
            out.append(UInt8(ascii: "]"))
        }
    }

    /// Adds an object member (the node becomes an object if it is not one yet).
    func addMember(_ key: String) -> Node {
        let child = Node()
        if case .object(var members) = content {
            content = .empty
            members.append((key, child))
            content = .object(members)
        } else {
            content = .object([(key, child)])
        }
        return child
    }

    /// Adds an array element (the node becomes an array if it is not one yet).
    func addElement() -> Node {
        let child = Node()
        if case .array(var elements) = content {
            content = .empty
            elements.append(child)
            content = .array(elements)
        } else {
            content = .array([child])
        }
        return child
    }

    var count: Int {
        switch content {
        case .array(let elements): elements.count
        case .object(let members): members.count
        default: 0
        }
    }
}

/// The bytes of one scalar.
private enum Scalar {
    static func string(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 2)
        JSONWriter.appendString(text, to: &out)
        return out
    }

    static func number(_ value: Double, codingPath: [any CodingKey]) throws -> [UInt8] {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "JSON has no \(value)"))
        }
        // Integral values print without a fraction (12, not 12.0), as providers print amounts.
        if value == value.rounded(), abs(value) < 1e15 { return Array(String(Int64(value)).utf8) }
        return Array("\(value)".utf8)
    }

    /// Encodes a value into `node`: scalars directly, everything else through its own `encode(to:)`.
    static func encode(_ value: some Encodable, into node: Node, codingPath: [any CodingKey]) throws {
        switch value {
        case let text as String: node.content = .scalar(string(text))
        case let flag as Bool: node.content = .scalar(Array((flag ? "true" : "false").utf8))
        case let number as any BinaryInteger: node.content = .scalar(Array(String(describing: number).utf8))
        case let number as Double: node.content = .scalar(try Scalar.number(number, codingPath: codingPath))
        case let number as Float: node.content = .scalar(try Scalar.number(Double(number), codingPath: codingPath))
        case let number as Decimal:
            guard number.isFinite else {
                throw EncodingError.invalidValue(number, .init(codingPath: codingPath, debugDescription: "JSON has no \(number)"))
            }
            node.content = .scalar(Array(number.description.utf8))
        default:
            // A value that encodes itself; a primitive it hands back to a single-value container
            // lands in one of the cases above, so this cannot recurse.
            try value.encode(to: NodeEncoder(node: node, codingPath: codingPath))
        }
    }
}

private struct NodeEncoder: Encoder {
    let node: Node
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .empty = node.content { node.content = .object([]) }
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .empty = node.content { node.content = .array([]) }
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(node: node, codingPath: codingPath)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: Node
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.addMember(key.stringValue).content = .scalar(Array("null".utf8)) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try Scalar.encode(value, into: node.addMember(key.stringValue), codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        NodeEncoder(node: node.addMember(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        NodeEncoder(node: node.addMember(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { NodeEncoder(node: node.addMember("super"), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { NodeEncoder(node: node.addMember(key.stringValue), codingPath: codingPath + [key]) }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: Node
    let codingPath: [any CodingKey]
    var count: Int { node.count }

    mutating func encodeNil() throws { node.addElement().content = .scalar(Array("null".utf8)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try Scalar.encode(value, into: node.addElement(), codingPath: codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        NodeEncoder(node: node.addElement(), codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        NodeEncoder(node: node.addElement(), codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { NodeEncoder(node: node.addElement(), codingPath: codingPath) }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let node: Node
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.content = .scalar(Array("null".utf8)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try Scalar.encode(value, into: node, codingPath: codingPath)
    }
}
