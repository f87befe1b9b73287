-- AlterTable
ALTER TABLE "Batch" ADD COLUMN "message" TEXT;
ALTER TABLE "Batch" ADD COLUMN "policy" TEXT;
ALTER TABLE "Batch" ADD COLUMN "prefetch" TEXT;
ALTER TABLE "Batch" ADD COLUMN "signingCheck" TEXT;
ALTER TABLE "Batch" ADD COLUMN "slotIds" TEXT;
ALTER TABLE "Batch" ADD COLUMN "warnings" TEXT;

-- CreateIndex
CREATE INDEX "Run_batchId_idx" ON "Run"("batchId");

-- CreateIndex
CREATE INDEX "Batch_state_idx" ON "Batch"("state");
