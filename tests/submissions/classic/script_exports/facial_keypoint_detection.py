#!/usr/bin/env python
# coding: utf-8

# # Face and Facial Keypoint detection
# 
# Find the faces in a photo with OpenCV's Haar cascade, then predict the keypoints of each face with the
# network trained in notebook 2.

# In[1]:


import cv2
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
get_ipython().run_line_magic('matplotlib', 'inline')


# In[2]:


# the photo; OpenCV reads BGR, matplotlib wants RGB
image = cv2.imread('images/obamas.jpg')
image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)

fig = plt.figure(figsize=(9, 9))
plt.imshow(image)


# ## Detect the faces

# In[3]:


# OpenCV's pre-trained frontal face detector
face_cascade = cv2.CascadeClassifier('detector_architectures/haarcascade_frontalface_default.xml')

# detectMultiScale(image, scaleFactor, minNeighbors): an (x, y, w, h) box per face
faces = face_cascade.detectMultiScale(image, 1.2, 2)

# the boxes, drawn on a copy of the photo
image_with_detections = image.copy()
for (x, y, w, h) in faces:
    cv2.rectangle(image_with_detections, (x, y), (x + w, y + h), (255, 0, 0), 3)

fig = plt.figure(figsize=(9, 9))
plt.imshow(image_with_detections)


# ## Load the trained model

# In[4]:


import torch
from models import Net

net = Net()

# the parameters saved in notebook 2
net.load_state_dict(torch.load('saved_models/keypoints_model_1.pt'))

# evaluation mode: no dropout
net.eval()


# ## Keypoints for each face

# In[5]:


image_copy = np.copy(image)

# a margin around each box, so that the crop is framed like the training images
padding = 50

for (x, y, w, h) in faces:

    roi = image_copy[max(y - padding, 0):y + h + padding, max(x - padding, 0):x + w + padding]

    # grayscale in [0, 1]
    roi = cv2.cvtColor(roi, cv2.COLOR_RGB2GRAY)
    roi = roi / 255.0

    # the network's input size
    roi = cv2.resize(roi, (224, 224))

    # (H, W) -> (1, 1, H, W)
    roi_tensor = torch.from_numpy(roi.reshape(1, 1, 224, 224))
    roi_tensor = roi_tensor.type(torch.FloatTensor)

    output_pts = net(roi_tensor)
    output_pts = output_pts.view(68, 2).data.numpy()
    # back to pixels of the 224 x 224 face
    output_pts = output_pts * 50.0 + 100

    plt.figure(figsize=(5, 5))
    plt.imshow(roi, cmap='gray')
    plt.scatter(output_pts[:, 0], output_pts[:, 1], s=20, marker='.', c='m')
    plt.axis('off')
    plt.show()

