// The customer's backend, as the README shows it: it mints request tokens
// for the page's getToken under its own policy, and it trusts a comparison
// only through the edge's signed receipt, checked against what it minted.
// The demo stack (scripts/stack.mjs) serves it as POST /kyc/token and
// POST /kyc/result; the workerd suite (tests/js/edge.test.mjs) drives it.
import { SignJWT, importJWK, jwtVerify } from "jose";
import { randomUUID } from "node:crypto";

/**
 * @param {object} o
 * @param {string} o.edgeAudience   the edge's FB_EDGE_AUDIENCE (token `aud`, receipt `iss`)
 * @param {string} o.kid            the token key's id in the edge's FB_TOKEN_KEYS
 * @param {Uint8Array} o.tokenKey   the HMAC key shared with the edge (≥ 32 bytes)
 * @param {object} o.receiptJwk     the edge's public receipt key (Ed25519 JWK)
 * @param {string} o.receiptAudience this backend, as the edge's FB_RECEIPT_AUDIENCE
 * @param {(session: string, req: {provider: string, op: string}) => boolean} o.allow
 *        your policy: which provider and operation this session may use
 */
export async function makeBackend({ edgeAudience, kid, tokenKey, receiptJwk, receiptAudience, allow }) {
  const receiptKey = await importJWK(receiptJwk, "EdDSA");
  // What was minted, by jti: the receipt must name one of these, for the
  // same session and body, and only once. (A database in production.)
  const minted = new Map();

  return {
    minted,
    /** POST /kyc/token, after your own session check. Throws on a refused request. */
    async mintToken(session, { provider, op, digest }) {
      if (typeof digest !== "string" || !/^[\w-]{43}$/.test(digest)) throw new Error("bad digest");
      // The page asks; your policy decides. Never sign whatever the browser names.
      if (!allow(session, { provider, op })) throw new Error(`${provider}/${op} is not allowed for this session`);
      const jti = randomUUID();
      minted.set(jti, { session, provider, op, digest, used: false });
      const token = await new SignJWT({ sub: session, fbp: provider, fbo: op, fbd: digest })
        .setProtectedHeader({ alg: "HS256", kid })
        .setAudience(edgeAudience)
        .setIssuedAt()
        .setExpirationTime("2m")
        .setJti(jti)
        .sign(tokenKey);
      return { token };
    },
    /**
     * POST /kyc/result: the page hands over `result.receipt` (or the error's
     * `receipt`). Resolves to the verified claims; only `decision: "match"`
     * is a match. Throws for anything not signed by the edge for a token this
     * backend minted for this session and body, or already used.
     */
    async verifyResult(session, receipt) {
      const { payload } = await jwtVerify(receipt, receiptKey, {
        algorithms: ["EdDSA"],
        typ: "fb-receipt+jwt",
        issuer: edgeAudience,
        audience: receiptAudience,
        subject: session,
        maxTokenAge: "10m",
      });
      const m = minted.get(payload.jti);
      if (!m || m.session !== session) throw new Error("the receipt is for a token this backend did not mint for this session");
      if (payload.fbd !== m.digest || payload.fbp !== m.provider || payload.fbo !== m.op) {
        throw new Error("the receipt is for another request");
      }
      if (m.used) throw new Error("the receipt was already used");
      m.used = true;
      return payload;
    },
  };
}
