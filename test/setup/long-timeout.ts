// Integration and e2e tests start real brokers and processes; jest's 5 s default is per unit test.
jest.setTimeout(Number(process.env.TRELLIS_TEST_TIMEOUT_MS || 180_000));
