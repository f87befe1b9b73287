-- AlterTable
ALTER TABLE "Batch" ADD COLUMN     "message" TEXT,
ADD COLUMN     "policy" TEXT,
ADD COLUMN     "prefetch" TEXT,
ADD COLUMN     "signingCheck" TEXT,
ADD COLUMN     "slotIds" TEXT,
ADD COLUMN     "warnings" TEXT;

-- CreateIndex
CREATE INDEX "Run_batchId_idx" ON "Run"("batchId");

-- CreateIndex
CREATE INDEX "Batch_state_idx" ON "Batch"("state");
