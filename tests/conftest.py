pytest_plugins = ["tests.fixtures.appium", "tests.fixtures.postgres", "tests.fixtures.service", "tests.fixtures.llm",
                  "tests.fixtures.memory"]
