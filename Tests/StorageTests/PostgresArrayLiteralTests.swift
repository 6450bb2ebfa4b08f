import Storage
import Testing

/// The array literals that carry a whole batch in one parameter.
@Suite struct PostgresArrayLiteralTests {
    @Test func textElementsAreQuotedWithQuotesAndBackslashesEscaped() {
        let literal = PostgresArrayLiteral.text(["plain", "a,b", "say \"hi\"", "back\\slash", "{}", "NULL"] as [String])
        #expect(literal == .text(#"{"plain","a,b","say \"hi\"","back\\slash","{}","NULL"}"#))
    }

    @Test func missingTextElementsAreUnquotedNull() {
        #expect(PostgresArrayLiteral.text(["a", nil] as [String?]) == .text(#"{"a",NULL}"#))
    }

    @Test func emptySequenceIsAnEmptyArray() {
        #expect(PostgresArrayLiteral.text([] as [String]) == .text("{}"))
        #expect(PostgresArrayLiteral.int64([] as [Int64?]) == .text("{}"))
    }

    @Test func integersAndNullsAreWrittenBare() {
        #expect(PostgresArrayLiteral.int64([1, nil, -3, Int64.max]) == .text("{1,NULL,-3,9223372036854775807}"))
    }

    @Test func multiByteTextSurvivesUnchanged() {
        #expect(PostgresArrayLiteral.text(["ünï", "상품"] as [String]) == .text(#"{"ünï","상품"}"#))
    }
}
