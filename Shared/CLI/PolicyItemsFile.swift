import Foundation
import Proto

/// The order items file of `policy resolve-batch` and `policy record`: JSON,
/// either an array of items or an object with `items` (and, for `record`, an
/// optional `batch_id`). Keys are the proto field names; money is integer
/// minor units; the order time is ISO 8601 (`order_time`) or unix micros
/// (`order_time_unix_micros`).
///
/// ```json
/// {"batch_id": "settle-2025-03-01",
///  "items": [{"order_item_id": "oi-1", "product_id": "p-1", "seller_id": "sel-1",
///             "line_amount": 129900, "currency": "KRW", "order_time": "2025-03-01T09:30:00Z"}]}
/// ```
struct PolicyItemsFile: Equatable {
    var batchId: String?
    var items: [PolicyV1.OrderItem]

    private struct Envelope: Decodable {
        var batchId: String?
        var items: [Item]

        enum CodingKeys: String, CodingKey {
            case batchId = "batch_id"
            case items
        }
    }

    private struct Item: Decodable {
        var orderItemId: String?
        var productId: String?
        var supplierId: String?
        var sellerId: String?
        var sellerTier: String?
        var lineAmount: ExactInteger?
        var currency: String?
        var orderTime: String?
        var orderTimeUnixMicros: ExactInteger?

        enum CodingKeys: String, CodingKey {
            case orderItemId = "order_item_id"
            case productId = "product_id"
            case supplierId = "supplier_id"
            case sellerId = "seller_id"
            case sellerTier = "seller_tier"
            case lineAmount = "line_amount"
            case currency
            case orderTime = "order_time"
            case orderTimeUnixMicros = "order_time_unix_micros"
        }
    }

    /// An integer that must be written as one: Foundation's decoder reports
    /// `12.5` for an `Int64` without the field's path, so this wrapper catches
    /// it where the path is still known.
    private struct ExactInteger: Decodable {
        var value: Int64

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            do {
                value = try container.decode(Int64.self)
            } catch {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an integer")
            }
        }
    }

    /// Decodes the file; errors name the item and field (`items[3].line_amount`).
    static func decode(_ data: Data) throws(CLIError) -> PolicyItemsFile {
        let envelope: Envelope
        do {
            let trimmed = data.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
            if trimmed == UInt8(ascii: "[") {
                envelope = Envelope(batchId: nil, items: try JSONDecoder().decode([Item].self, from: data))
            } else {
                envelope = try JSONDecoder().decode(Envelope.self, from: data)
            }
        } catch let DecodingError.keyNotFound(key, context) {
            throw CLIError(field: path(context.codingPath + [key]), "required")
        } catch let DecodingError.typeMismatch(type, context) {
            let expected = type == Int64.self ? "an integer (money is minor units, times unix micros)" : "a \(type)"
            throw CLIError(field: path(context.codingPath), "expected \(expected)")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw CLIError(field: path(context.codingPath), "expected an integer (money is minor units, times unix micros)")
        } catch {
            throw CLIError(field: "--file", "not a JSON array of order items or an object with \"items\"")
        }
        var items: [PolicyV1.OrderItem] = []
        for (index, item) in envelope.items.enumerated() {
            var orderTime = item.orderTimeUnixMicros?.value ?? 0
            if let text = item.orderTime {
                guard item.orderTimeUnixMicros == nil else {
                    throw CLIError(field: "items[\(index)]", "give order_time or order_time_unix_micros, not both")
                }
                orderTime = try Timestamp.parseMicros(text, field: "items[\(index)].order_time")
            }
            items.append(PolicyV1.OrderItem(
                orderItemId: item.orderItemId ?? "", productId: item.productId ?? "", supplierId: item.supplierId ?? "",
                sellerId: item.sellerId ?? "", sellerTier: item.sellerTier ?? "", lineAmount: item.lineAmount?.value ?? 0,
                currency: item.currency ?? "", orderTimeUnixMicros: orderTime
            ))
        }
        return PolicyItemsFile(batchId: envelope.batchId, items: items)
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        var result = ""
        for key in keys {
            if let index = key.intValue {
                result += result.isEmpty ? "items[\(index)]" : "[\(index)]"
            } else {
                result += result.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return result.isEmpty ? "--file" : result
    }
}
