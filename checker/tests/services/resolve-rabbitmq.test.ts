import { describe, expect, it } from "vitest";
import { resolveServices, serviceEnv, type ServiceNeeds } from "../../src/services";
import { fakeMachine, fakeServer, OK, REFUSED } from "./fake-machine";

// The RabbitMQ ladder's decisions, on a fake machine (the real probe is in real.test.ts).
const REDIS_ONLY: ServiceNeeds = { redis: true, postgres: false, rabbitmq: false, postgresSingleSessionOk: false };

describe("RabbitMQ: AMQP_URL, the default port, a container, then a message", () => {
  const RABBIT_ONLY: ServiceNeeds = { redis: false, postgres: false, rabbitmq: true, postgresSingleSessionOk: false };

  it("uses AMQP_URL when it answers, prints it without its password, and looks nowhere else", async () => {
    const machine = fakeMachine({ probeRabbitMQ: async () => OK });
    const url = "amqp://app:s3cret@mq.internal:5672/course";
    const result = await resolveServices(RABBIT_ONLY, { env: { AMQP_URL: url }, deps: machine.deps });
    expect(result.resolved).toMatchObject([{ name: "rabbitmq", source: "env", url }]);
    expect(result.resolved[0]?.describe).toContain("AMQP_URL");
    expect(result.resolved[0]?.describe).not.toContain("s3cret");
    expect(machine.called("probeRabbitMQ").map((c) => c.arg)).toEqual([url]);
    expect(serviceEnv(result)).toEqual({ KATA_AMQP_URL: url });
  });

  it("reports an unreachable AMQP_URL naming the variable, without trying the default port", async () => {
    const machine = fakeMachine({ probeRabbitMQ: async (url) => (url.includes("5672") ? OK : REFUSED) });
    const result = await resolveServices(RABBIT_ONLY, {
      env: { AMQP_URL: "amqp://127.0.0.1:7777" },
      deps: machine.deps,
    });
    expect(result.resolved).toEqual([]);
    expect(result.unavailable[0]?.message).toContain("AMQP_URL");
    expect(machine.called("probeRabbitMQ")).toHaveLength(1);
  });

  it("uses a broker on 127.0.0.1:5672 with guest/guest", async () => {
    const machine = fakeMachine({ probeRabbitMQ: async () => OK });
    const result = await resolveServices(RABBIT_ONLY, { env: {}, deps: machine.deps });
    expect(result.resolved).toMatchObject([
      { name: "rabbitmq", source: "local", url: "amqp://guest:guest@127.0.0.1:5672" },
    ]);
    expect(result.resolved[0]?.describe).toContain("127.0.0.1:5672");
  });

  it("starts a rabbitmq container when nothing listens and a runtime answers", async () => {
    const server = fakeServer("amqp://guest:guest@localhost:32771", "localhost:32771");
    const machine = fakeMachine({
      probeRabbitMQ: async (url) => (url === server.url ? OK : REFUSED),
      containerRuntime: async () => ({ available: true, description: "Docker 27 at /var/run/docker.sock" }),
      startContainer: async () => server,
    });
    const result = await resolveServices(RABBIT_ONLY, { env: {}, deps: machine.deps });
    expect(result.resolved).toMatchObject([{ name: "rabbitmq", source: "container", url: server.url }]);
    expect(machine.called("startContainer").map((c) => c.arg)).toEqual(["rabbitmq"]);
    await result.stopAll();
    expect(server.stops).toBe(1);
  });

  it("names compose, a local install and AMQP_URL when nothing works, and never starts a private broker", async () => {
    const machine = fakeMachine({ findBinary: async () => "/usr/sbin/rabbitmq-server" });
    const result = await resolveServices(RABBIT_ONLY, { env: {}, deps: machine.deps });
    const message = result.unavailable[0]?.message ?? "";
    expect(message).toContain("docker compose up -d rabbitmq");
    expect(message).toContain("rabbitmq-server -detached");
    expect(message).toContain("AMQP_URL");
    expect(message).toContain("127.0.0.1:5672");
    expect(machine.called("findBinary")).toEqual([]);
  });

  it("is not touched when no selected kata needs it", async () => {
    const machine = fakeMachine({ probeRedis: async () => OK });
    await resolveServices(REDIS_ONLY, { env: {}, deps: machine.deps });
    expect(machine.called("probeRabbitMQ")).toEqual([]);
  });
});
