// The logger against pino 10.4.0, both writing to a sink that throws every line away, so the
// bench measures building and serializing a record, not I/O. Same calls, same fields, same
// redaction paths on both sides.
import { benchCase } from "#fixtures/bench";
import pino from "pino";
import { createLogger } from "../src/logger";

const nullSink = { write: (_line: string) => {} };
const redact = ["req.headers.authorization", "*.password"];

const ours = createLogger({ sink: nullSink, bindings: { service: "checkout" } }).child({ component: "orders" });
const theirs = pino({ base: { service: "checkout" } }, nullSink).child({ component: "orders" });
const oursRedacting = createLogger({ sink: nullSink, redact }).child({ component: "auth" });
const theirsRedacting = pino({ base: null, redact }, nullSink).child({ component: "auth" });

const order = { orderId: "ord_81x", amount: 129.5, currency: "EUR", items: 3 };
const request = {
  req: { method: "POST", url: "/login", headers: { authorization: "Bearer abc.def.ghi", accept: "*/*" } },
  user: { id: 7, password: "hunter2" },
};
const error = Object.assign(new Error("charge failed", { cause: new Error("gateway timeout") }), { code: "E_GATEWAY" });

{
  benchCase("info with a message and fields, from a child logger", {
    ours: () => {
      ours.info(order, "order placed");
    },
    yardstick: {
      library: "pino 10",
      run: () => {
        theirs.info(order, "order placed");
      },
    },
  });
}

{
  benchCase("info with fields to redact", {
    ours: () => {
      oursRedacting.info(request, "login");
    },
    yardstick: {
      library: "pino 10",
      run: () => {
        theirsRedacting.info(request, "login");
      },
    },
  });
}

{
  benchCase("error with a cause", {
    ours: () => {
      ours.error(error, "checkout failed");
    },
    yardstick: {
      library: "pino 10",
      run: () => {
        theirs.error(error, "checkout failed");
      },
    },
  });
}

// A disabled call is so cheap that one per iteration would measure the bench harness: 100 each.
{
  benchCase("100 disabled debug lines", {
    ours: () => {
      for (let i = 0; i < 100; i++) ours.debug(order, "not written");
    },
    yardstick: {
      library: "pino 10",
      run: () => {
        for (let i = 0; i < 100; i++) theirs.debug(order, "not written");
      },
    },
  });
}
