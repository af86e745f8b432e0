from domain.exploration.locators import xpath_literal


def test_xpath_literal_quotes_whichever_way_the_value_allows():
    assert xpath_literal("OK") == '"OK"'
    assert xpath_literal('Say "hi"') == "'Say \"hi\"'"
    assert xpath_literal("""It's "fine\"""") == """concat("It's ", '"', "fine", '"', "")"""
