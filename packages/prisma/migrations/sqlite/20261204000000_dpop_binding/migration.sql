-- A session may be bound to a DPoP key (RFC 9449): the thumbprint of the key its client proved at
-- login, which every refresh must prove again. Nullable and not indexed: the sessions already here
-- stay unbound and keep refreshing, and a refresh still writes no index.

-- AlterTable
ALTER TABLE "tokens_sessions" ADD COLUMN "dpop_jkt" TEXT;
