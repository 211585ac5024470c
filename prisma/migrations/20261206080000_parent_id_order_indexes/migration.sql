-- CreateIndex
CREATE INDEX "Order_userId_id_idx" ON "Order"("userId", "id");

-- CreateIndex
CREATE INDEX "OrderItem_orderId_id_idx" ON "OrderItem"("orderId", "id");

