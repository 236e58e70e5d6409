// The edge Worker with a jti ledger that fails (a Durable Object outage):
// tests/js/edge.test.mjs checks that no service is called and no receipt
// is signed when single use cannot be recorded.
export { default } from "../../edge/worker.mjs";

export class JtiLedger {
  async fetch() {
    return new Response("storage unavailable", { status: 500 });
  }
}
