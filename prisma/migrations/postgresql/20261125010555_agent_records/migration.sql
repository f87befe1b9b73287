-- AlterTable
ALTER TABLE "Slot" ADD COLUMN     "detail" TEXT,
ADD COLUMN     "deviceEcid" TEXT,
ADD COLUMN     "runId" TEXT;

-- AlterTable
ALTER TABLE "Run" ADD COLUMN     "attemptCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "hostId" TEXT NOT NULL,
ADD COLUMN     "policy" TEXT NOT NULL DEFAULT 'default',
ADD COLUMN     "portPath" TEXT NOT NULL;

-- AlterTable
ALTER TABLE "Event" ADD COLUMN     "streamId" TEXT;

-- CreateIndex
CREATE INDEX "Run_hostId_portPath_idx" ON "Run"("hostId", "portPath");

-- CreateIndex
CREATE UNIQUE INDEX "Event_streamId_key" ON "Event"("streamId");
